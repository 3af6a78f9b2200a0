#include "cluster/mention_stream.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "cluster/detail/nats.hpp"

namespace crisisd::cluster {
namespace {

std::int64_t nanos(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

}  // namespace

struct mention_stream::batch_state {
    jsCtx* js = nullptr;   // its own context: the acknowledgement callback belongs to it
    std::mutex m;
    std::unordered_map<std::string, std::deque<std::size_t>> waiting;   // msg id → batch indexes
    std::vector<publish_result>* results = nullptr;
};

namespace {

void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* b = static_cast<mention_stream::batch_state*>(closure);
    const char* id = nullptr;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    {
        std::lock_guard lock(b->m);
        auto it = id ? b->waiting.find(id) : b->waiting.end();
        if (it != b->waiting.end() && !it->second.empty() && b->results) {
            auto& r = (*b->results)[it->second.front()];
            it->second.pop_front();
            if (pa) {
                r.result = pa->Duplicate ? publish_result::outcome::duplicate : publish_result::outcome::stored;
                r.sequence = pa->Sequence;
                r.error.clear();
            } else if (pae) {
                r.error = pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
            }
        }
    }
    natsMsg_Destroy(msg);
}

}  // namespace

mention_stream::mention_stream(nats_connection& conn, stream_settings settings)
    : conn_(conn), settings_(std::move(settings)), batch_(std::make_unique<batch_state>()) {}

mention_stream::~mention_stream() {
    if (batch_->js) jsCtx_Destroy(batch_->js);
}

std::vector<publish_result> mention_stream::publish_batch(const std::vector<outgoing_mention>& batch) {
    std::vector<publish_result> results(batch.size());
    for (auto& r : results) r.error = "no acknowledgement";
    if (!batch_->js) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = conn_.settings().request_timeout.count();
        jo.PublishAsync.MaxPending = 4096;
        jo.PublishAsync.AckHandler = on_publish_ack;
        jo.PublishAsync.AckHandlerClosure = batch_.get();
        natsStatus st = natsConnection_JetStream(&batch_->js, conn_.handles().connection, &jo);
        if (st != NATS_OK) {
            batch_->js = nullptr;
            for (auto& r : results) r.error = detail::nats_error(st);
            return results;
        }
    }
    {
        std::lock_guard lock(batch_->m);
        batch_->waiting.clear();
        for (std::size_t i = 0; i < batch.size(); ++i) batch_->waiting[batch[i].msg_id].push_back(i);
        batch_->results = &results;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& m = batch[i];
        if (m.partition < 0 || m.partition >= settings_.partitions) {
            results[i].error = "no partition " + std::to_string(m.partition);
            continue;
        }
        natsMsg* msg = nullptr;
        auto subj = subject(m.partition);
        natsStatus st = natsMsg_Create(&msg, subj.c_str(), nullptr, m.payload.data(), static_cast<int>(m.payload.size()));
        if (st == NATS_OK) st = natsMsgHeader_Set(msg, "Nats-Msg-Id", m.msg_id.c_str());
        if (st == NATS_OK) st = js_PublishMsgAsync(batch_->js, &msg, nullptr);
        if (st != NATS_OK) results[i].error = detail::nats_error(st);
        natsMsg_Destroy(msg);   // no-op when the library took it
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = conn_.settings().request_timeout.count() * 4;
    if (js_PublishAsyncComplete(batch_->js, &po) != NATS_OK) {
        // Whatever is still unacknowledged stays "no acknowledgement": the caller publishes it
        // again, and the message id makes that safe.
        natsMsgList pending{nullptr, 0};
        if (js_PublishAsyncGetPendingList(&pending, batch_->js) == NATS_OK) natsMsgList_Destroy(&pending);
    }
    std::lock_guard lock(batch_->m);
    batch_->results = nullptr;
    batch_->waiting.clear();
    return results;
}

int partition_of(std::string_view rule, std::string_view key, int partitions) {
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ull;
        }
    };
    mix(rule);
    mix(std::string_view("\0", 1));   // ("ab", "c") and ("a", "bc") are different pairs
    mix(key);
    // FNV-1a's low bits depend only on the low bits of each byte (xor and an odd multiply carry
    // upwards only), so `h % 16` would read four bits per byte and "<t>-outage"/"<t>" could land on
    // one partition for every t. The finalizer of splitmix64 brings every bit down first.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return partitions > 0 ? static_cast<int>(h % static_cast<std::uint64_t>(partitions)) : 0;
}

std::string batch_id(std::string_view front, std::uint64_t n) {
    std::string id;
    id.reserve(front.size() + 21);
    id.append(front).append(":").append(std::to_string(n));
    std::replace_if(id.begin(), id.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
    return id;
}

std::size_t mention_stream::max_payload() const {
    // Room for the header block ("NATS/1.0", the Nats-Msg-Id line) and what a client adds.
    constexpr std::int64_t header_room = 1024;
    const std::int64_t server = natsConnection_GetMaxPayload(conn_.handles().connection);
    return static_cast<std::size_t>(std::max<std::int64_t>(4096, server - header_room));
}

std::unique_ptr<mention_stream> mention_stream::open(nats_connection& conn, stream_settings settings, std::string& error) {
    std::string subjects = settings.subject_prefix + ".*";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = settings.name.c_str();
    cfg.Description = "crisisd matched mentions, one subject per partition";
    cfg.Subjects = subject_list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = settings.replicas;
    cfg.MaxAge = nanos(settings.max_age);
    cfg.Duplicates = nanos(settings.duplicate_window);
    jsOptions jo;   // creating an R3 stream waits for its leader: see kv_bucket::open
    jsOptions_Init(&jo);
    jo.Wait = std::max<std::int64_t>(10000, conn.settings().request_timeout.count());
    jsStreamInfo* si = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus st = js_AddStream(&si, conn.handles().js, &cfg, &jo, &code);
    if (st != NATS_OK) {
        std::string add_error = detail::nats_error(st);
        // It exists (perhaps created by an older version with other limits): use it as it is.
        st = js_GetStreamInfo(&si, conn.handles().js, settings.name.c_str(), &jo, &code);
        if (st != NATS_OK) {
            error = "stream " + settings.name + ": " + add_error;
            return nullptr;
        }
    }
    if (si) jsStreamInfo_Destroy(si);
    return std::unique_ptr<mention_stream>(new mention_stream(conn, std::move(settings)));
}

publish_result mention_stream::publish(int partition, const std::string& msg_id, std::string_view payload) {
    publish_result r;
    if (partition < 0 || partition >= settings_.partitions) {
        r.error = "no partition " + std::to_string(partition);
        return r;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id.c_str();
    po.ExpectStream = settings_.name.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    auto subj = subject(partition);
    natsStatus st = js_Publish(&ack, conn_.handles().js, subj.c_str(), payload.data(), static_cast<int>(payload.size()),
                               &po, &code);
    if (st == NATS_OK && ack) {
        r.result = ack->Duplicate ? publish_result::outcome::duplicate : publish_result::outcome::stored;
        r.sequence = ack->Sequence;
    } else {
        r.error = detail::nats_error(st);
    }
    if (ack) jsPubAck_Destroy(ack);
    return r;
}

std::unique_ptr<partition_consumer> partition_consumer::open(nats_connection& conn, const stream_settings& settings,
                                                             int partition, std::string& error,
                                                             std::optional<std::uint64_t> after) {
    std::string subject = settings.subject_prefix + "." + std::to_string(partition);
    std::string durable = "p" + std::to_string(partition);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = settings.name.c_str();
    so.Config.AckPolicy = js_AckAll;
    so.Config.DeliverPolicy = js_DeliverAll;
    if (after) {
        // A fresh consumer starting right after what the partition's state says was processed:
        // whatever the last owner fetched and did not finish comes at once, not after its ack
        // wait. The old one goes first (a consumer's start cannot be changed in place).
        jsErrCode dcode = static_cast<jsErrCode>(0);
        const natsStatus ds = js_DeleteConsumer(conn.handles().js, settings.name.c_str(), durable.c_str(), nullptr, &dcode);
        if (ds != NATS_OK && ds != NATS_NOT_FOUND && dcode != JSConsumerNotFoundErr) {
            error = "consumer " + durable + ": cannot reset it: " + detail::nats_error(ds);
            return nullptr;
        }
        so.Config.DeliverPolicy = js_DeliverByStartSequence;
        so.Config.OptStartSeq = *after + 1;
    }
    so.Config.AckWait = nanos(settings.ack_wait);
    so.Config.FilterSubject = subject.c_str();
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus st = js_PullSubscribe(&sub, conn.handles().js, subject.c_str(), durable.c_str(), nullptr, &so, &code);
    if (st != NATS_OK) {
        error = "consumer " + durable + ": " + detail::nats_error(st);
        return nullptr;
    }
    return std::unique_ptr<partition_consumer>(new partition_consumer(sub));
}

partition_consumer::~partition_consumer() {
    // Destroy, not Unsubscribe: unsubscribing a durable would delete it, and the next owner
    // resumes from it.
    natsSubscription_Destroy(static_cast<natsSubscription*>(sub_));
}

bool partition_consumer::fetch(std::vector<stream_message>& out, int max, std::chrono::milliseconds wait,
                               std::string& error) {
    natsMsgList list{nullptr, 0};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus st = natsSubscription_Fetch(&list, static_cast<natsSubscription*>(sub_), max, wait.count(), &code);
    if (st == NATS_TIMEOUT) return true;
    if (st != NATS_OK) {
        error = detail::nats_error(st);
        return false;
    }
    for (int i = 0; i < list.Count; ++i) {
        natsMsg* msg = list.Msgs[i];
        list.Msgs[i] = nullptr;   // ours now: the list must not destroy it
        stream_message m;
        m.payload.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
        const char* id = nullptr;
        if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) m.msg_id = id;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
            m.sequence = meta->Sequence.Stream;
            m.deliveries = meta->NumDelivered;
            m.pending = meta->NumPending;
            jsMsgMetaData_Destroy(meta);
        }
        m.handle = std::shared_ptr<void>(msg, [](void* p) { natsMsg_Destroy(static_cast<natsMsg*>(p)); });
        out.push_back(std::move(m));
    }
    natsMsgList_Destroy(&list);
    return true;
}

bool partition_consumer::ack(const stream_message& m) {
    if (!m.handle) return false;
    // Synchronous: once this returns, a new owner binding to the consumer starts after m.
    jsErrCode code = static_cast<jsErrCode>(0);
    return natsMsg_AckSync(static_cast<natsMsg*>(m.handle.get()), nullptr, &code) == NATS_OK;
}

}  // namespace crisisd::cluster
