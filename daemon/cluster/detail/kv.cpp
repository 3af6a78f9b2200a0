#include "cluster/detail/kv.hpp"

#include "cluster/detail/nats.hpp"

#include <algorithm>

namespace crisisd::cluster::detail {
namespace {

kvStore* store(void* p) { return static_cast<kvStore*>(p); }

}  // namespace

kv_bucket::kv_bucket(nats_connection& conn, std::string bucket, void* kv)
    : conn_(conn), bucket_(std::move(bucket)), kv_(kv), timeout_(conn.settings().request_timeout) {}

kv_bucket::~kv_bucket() {
    if (kv_) kvStore_Destroy(store(kv_));
}

std::unique_ptr<kv_bucket> kv_bucket::open(nats_connection& conn, const lease_settings& s, std::string& error) {
    return open(conn, s.bucket, s.ttl, s.replicas, "crisisd partition leases", error);
}

namespace {

// Creates the bucket `cfg` describes unless it exists, then binds to it. Creating an R3 stream waits
// for the meta leader and then for the new stream's own leader, which takes seconds on a busy
// cluster: that one request gets a long wait of its own, while the handle returned keeps the
// connection's short request timeout (a renewal round must never stall for seconds). nullptr and
// `error` (prefixed with `label`) on failure.
kvStore* create_and_bind(nats_connection& conn, const kvConfig& cfg, const std::string& label, std::string& error) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = std::max<std::int64_t>(10000, conn.settings().request_timeout.count());
    jsCtx* admin = nullptr;
    natsStatus st = natsConnection_JetStream(&admin, conn.handles().connection, &jo);
    if (st != NATS_OK) {
        error = label + ": " + nats_error(st);
        return nullptr;
    }
    kvStore* kv = nullptr;
    kvConfig c = cfg;
    st = js_CreateKeyValue(&kv, admin, &c);
    std::string create_error = st == NATS_OK ? std::string() : nats_error(st);
    if (kv) kvStore_Destroy(kv);
    kv = nullptr;
    jsCtx_Destroy(admin);
    // It exists now, made by us or by another replica (perhaps with another configuration): bind
    // with the short-timeout context.
    st = js_KeyValue(&kv, conn.handles().js, cfg.Bucket);
    if (st != NATS_OK) {
        error = label + ": " + (create_error.empty() ? nats_error(st) : create_error);
        return nullptr;
    }
    return kv;
}

}  // namespace

std::unique_ptr<kv_bucket> kv_bucket::open(nats_connection& conn, const std::string& bucket, std::chrono::milliseconds ttl,
                                           int replicas, const char* description, std::string& error) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.Description = description;
    cfg.History = 1;
    // The C client passes TTL through as the stream's max age, which JetStream counts in nanoseconds.
    cfg.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count();
    cfg.Replicas = replicas;
    cfg.StorageType = js_FileStorage;
    kvStore* kv = create_and_bind(conn, cfg, "bucket " + bucket, error);
    if (!kv) return nullptr;
    // What matters for fencing: the bucket drops an entry exactly when its owners think it does.
    kvStatus* status = nullptr;
    natsStatus st = kvStore_Status(&status, kv);
    if (st != NATS_OK) {
        kvStore_Destroy(kv);
        error = "bucket " + bucket + ": " + nats_error(st);
        return nullptr;
    }
    auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(kvStatus_TTL(status))).count();
    kvStatus_Destroy(status);
    if (ttl_ms != ttl.count()) {
        kvStore_Destroy(kv);
        error = "bucket " + bucket + " exists with ttl " + std::to_string(ttl_ms) + " ms, not the configured " +
                std::to_string(ttl.count()) + " ms; delete it or use the same ttl";
        return nullptr;
    }
    return std::unique_ptr<kv_bucket>(new kv_bucket(conn, bucket, kv));
}

std::unique_ptr<kv_bucket> kv_bucket::open_durable(nats_connection& conn, const std::string& bucket, int replicas,
                                                   std::string& error, const char* description) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.Description = description;
    cfg.History = 1;
    cfg.Replicas = replicas;
    cfg.StorageType = js_FileStorage;
    kvStore* kv = create_and_bind(conn, cfg, "bucket " + bucket, error);
    if (!kv) return nullptr;
    return std::unique_ptr<kv_bucket>(new kv_bucket(conn, bucket, kv));
}

kv_write_result kv_bucket::publish(const std::string& key, const std::string& value, bool check, std::uint64_t expected) {
    kv_write_result r;
    std::string subject = "$KV." + bucket_ + "." + key;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = timeout_.count();
    if (check) {
        if (expected == 0) po.ExpectNoMessage = true;
        else po.ExpectLastSubjectSeq = expected;
    }
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus st = js_Publish(&ack, conn_.handles().js, subject.c_str(), value.data(), static_cast<int>(value.size()), &po,
                               &code);
    if (st == NATS_OK && ack) {
        r.outcome = kv_outcome::ok;
        r.revision = ack->Sequence;
    } else if (code == JSStreamWrongLastSequenceErr) {
        r.outcome = kv_outcome::conflict;
        r.error = "changed by someone else";
    } else {
        r.outcome = kv_outcome::unavailable;
        r.error = nats_error(st);
        // The client refuses it before sending: no server would take it, so trying again cannot help.
        r.too_large = st == NATS_MAX_PAYLOAD;
    }
    if (ack) jsPubAck_Destroy(ack);
    return r;
}

kv_write_result kv_bucket::write(const std::string& key, const std::string& value, std::uint64_t expected) {
    return publish(key, value, true, expected);
}

kv_write_result kv_bucket::put(const std::string& key, const std::string& value) { return publish(key, value, false, 0); }

bool kv_bucket::snapshot(std::vector<kv_entry>& out, std::string& error) {
    out.clear();
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.Timeout = timeout_.count();
    kvWatcher* w = nullptr;
    natsStatus st = kvStore_WatchAll(&w, store(kv_), &wo);
    if (st != NATS_OK) {
        error = nats_error(st);
        return false;
    }
    // The watcher delivers the latest entry of every key, then one null entry marking the end of
    // what existed when it started.
    bool ok = true;
    for (;;) {
        kvEntry* e = nullptr;
        st = kvWatcher_Next(&e, w, timeout_.count());
        if (st != NATS_OK) {
            error = nats_error(st);
            ok = false;
            break;
        }
        if (!e) break;
        kv_entry k;
        k.key = kvEntry_Key(e);
        k.value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
        k.revision = kvEntry_Revision(e);
        k.deleted = kvEntry_Operation(e) != kvOp_Put;
        out.push_back(std::move(k));
        kvEntry_Destroy(e);
    }
    kvWatcher_Destroy(w);
    return ok;
}

bool kv_bucket::revision(const std::string& key, std::uint64_t& out, std::string& error) {
    kvEntry* e = nullptr;
    natsStatus st = kvStore_Get(&e, store(kv_), key.c_str());
    if (st == NATS_NOT_FOUND) {
        out = 0;
        return true;
    }
    if (st != NATS_OK) {
        error = nats_error(st);
        return false;
    }
    out = kvEntry_Revision(e);
    kvEntry_Destroy(e);
    return true;
}

bool kv_bucket::get(const std::string& key, kv_entry& out, std::string& error) {
    out = kv_entry{};
    out.key = key;
    kvEntry* e = nullptr;
    natsStatus st = kvStore_Get(&e, store(kv_), key.c_str());
    if (st == NATS_NOT_FOUND) return true;
    if (st != NATS_OK) {
        error = nats_error(st);
        return false;
    }
    out.value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
    out.revision = kvEntry_Revision(e);
    out.deleted = kvEntry_Operation(e) != kvOp_Put;
    kvEntry_Destroy(e);
    return true;
}

bool kv_bucket::get(const std::string& key, std::string& value, std::uint64_t& revision, std::string& error) {
    kv_entry entry;
    if (!get(key, entry, error)) return false;
    revision = entry.revision;
    value = entry.deleted ? std::string() : std::move(entry.value);
    return true;
}

}  // namespace crisisd::cluster::detail
