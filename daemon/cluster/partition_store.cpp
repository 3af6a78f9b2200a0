#include "cluster/partition_store.hpp"

#include "cluster/detail/kv.hpp"

namespace crisisd::cluster {

partition_store::partition_store(nats_connection& conn, std::unique_ptr<detail::kv_bucket> kv)
    : conn_(conn), kv_(std::move(kv)) {}
partition_store::~partition_store() = default;

std::unique_ptr<partition_store> partition_store::open(nats_connection& conn, int replicas, std::string& error,
                                                       const std::string& bucket) {
    auto kv = detail::kv_bucket::open_durable(conn, bucket, replicas, error);
    if (!kv) return nullptr;
    return std::unique_ptr<partition_store>(new partition_store(conn, std::move(kv)));
}

partition_store::loaded partition_store::load(int partition) {
    loaded l;
    l.ok = kv_->get(key(partition), l.value, l.revision, l.error);
    return l;
}

partition_store::written partition_store::write(int partition, std::string_view value, std::uint64_t expected) {
    const auto r = kv_->write(key(partition), std::string(value), expected);
    written w;
    w.revision = r.revision;
    w.error = r.error;
    w.result = r.outcome == detail::kv_outcome::ok         ? outcome::ok
               : r.outcome == detail::kv_outcome::conflict ? outcome::conflict
               : r.too_large                               ? outcome::too_large
                                                           : outcome::unavailable;
    return w;
}

std::size_t partition_store::value_limit() const {
    // The subject, the expected-sequence header and the message id travel in the same message.
    constexpr std::int64_t header_room = 512;
    const auto max = conn_.max_payload();
    return max > header_room ? static_cast<std::size_t>(max - header_room) : 0;
}

}  // namespace crisisd::cluster
