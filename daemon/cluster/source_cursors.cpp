#include "cluster/source_cursors.hpp"

#include "cluster/detail/kv.hpp"

namespace crisisd::cluster {

source_cursors::source_cursors(std::unique_ptr<detail::kv_bucket> kv) : kv_(std::move(kv)) {}
source_cursors::~source_cursors() = default;

std::unique_ptr<source_cursors> source_cursors::open(nats_connection& conn, int replicas, std::string& error,
                                                     const std::string& bucket) {
    auto kv = detail::kv_bucket::open_durable(conn, bucket, replicas, error, "crisisd pull sources' resume points");
    if (!kv) return nullptr;
    return std::unique_ptr<source_cursors>(new source_cursors(std::move(kv)));
}

std::string source_cursors::key(std::string_view source) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string k = "s.";
    for (unsigned char c : source) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (plain) {
            k += static_cast<char>(c);
        } else {
            k += '=';
            k += hex[c >> 4];
            k += hex[c & 15];
        }
    }
    return k;
}

source_cursors::loaded source_cursors::load(std::string_view source) {
    loaded l;
    l.ok = kv_->get(key(source), l.value, l.revision, l.error);
    return l;
}

source_cursors::written source_cursors::write(std::string_view source, std::string_view value, std::uint64_t expected) {
    const auto r = kv_->write(key(source), std::string(value), expected);
    written w;
    w.revision = r.revision;
    w.error = r.error;
    w.result = r.outcome == detail::kv_outcome::ok         ? outcome::ok
               : r.outcome == detail::kv_outcome::conflict ? outcome::conflict
                                                           : outcome::unavailable;
    return w;
}

}  // namespace crisisd::cluster
