#include "runtime/partition_state.hpp"

#include <boost/json.hpp>
#include <algorithm>

#include "incident/codec.hpp"

namespace crisisd::runtime {

namespace json = boost::json;

namespace {

std::int64_t us(core::timestamp t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
core::timestamp from_us(std::int64_t v) {
    return core::timestamp(std::chrono::duration_cast<core::duration>(std::chrono::microseconds(v)));
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::optional<std::string> unhex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

std::uint64_t u64(const json::object& o, const char* k) {
    const auto* v = o.if_contains(k);
    if (!v) return 0;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    return 0;
}

std::int64_t i64(const json::object& o, const char* k) {
    const auto* v = o.if_contains(k);
    if (v && v->is_int64()) return v->get_int64();
    if (v && v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    return 0;
}

std::string str(const json::object& o, const char* k) {
    const auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string encode_partition_state(const partition_state& s) {
    json::object o;
    o["v"] = 1;
    o["partition"] = s.partition;
    o["epoch"] = s.epoch;
    o["next_sequence"] = s.next_sequence;
    o["last_stream_sequence"] = s.last_stream_sequence;
    o["counted"] = s.counted;
    if (s.window_from > 0) o["window_from"] = s.window_from;
    json::array incs;
    // The codec's snapshot, embedded as a string: its bytes are the ones the state database
    // keeps, so both stores read one form.
    for (const auto& inc : s.incidents) incs.emplace_back(incident::incident_to_json(inc));
    o["incidents"] = std::move(incs);
    json::array recs;
    for (const auto& r : s.records) {
        json::object j;
        j["key"] = r.key;
        j["incident"] = r.incident_id;
        j["channel"] = r.channel;
        j["kind"] = r.kind;
        j["payload"] = r.payload;
        j["state"] = std::string(state::to_string(r.state));
        j["attempts"] = r.attempts;
        j["started"] = r.started;
        j["created_us"] = us(r.created_at);
        j["next_us"] = us(r.next_attempt);
        if (r.done_at) j["done_us"] = us(*r.done_at);
        if (!r.last_error.empty()) j["error"] = r.last_error;
        recs.push_back(std::move(j));
    }
    o["records"] = std::move(recs);
    json::array sil;
    for (const auto& x : s.silences) {
        json::object j;
        j["rule"] = x.rule;
        j["key"] = x.key;
        j["who"] = x.who;
        j["until_us"] = us(x.until);
        sil.push_back(std::move(j));
    }
    o["silences"] = std::move(sil);
    json::object det;
    for (const auto& [rule, bytes] : s.detectors) det[rule] = hex(bytes);
    o["detectors"] = std::move(det);
    return json::serialize(o);
}

fitted_state encode_partition_state_within(partition_state s, std::size_t limit) {
    fitted_state out{encode_partition_state(s), 0};
    if (limit == 0 || out.value.size() <= limit) return out;
    auto has_pending = [&](std::uint64_t id) {
        return std::any_of(s.records.begin(), s.records.end(), [&](const state::record& r) {
            return r.incident_id == id && r.state == state::record_state::pending;
        });
    };
    auto finished = [&](const incident::incident& inc) {
        if (inc.state != incident::incident_state::resolved || has_pending(inc.id)) return false;
        return std::none_of(inc.steps.begin(), inc.steps.end(), [](const incident::step_status& st) {
            return st.state == incident::step_state::scheduled || st.state == incident::step_state::awaiting_approval;
        });
    };
    // Candidates, the longest resolved first, each with roughly what it adds to the value.
    struct candidate {
        std::uint64_t id;
        core::timestamp resolved;
        std::size_t bytes;
    };
    std::vector<candidate> candidates;
    for (const auto& inc : s.incidents) {
        if (!finished(inc)) continue;
        std::size_t bytes = incident::incident_to_json(inc).size() + 16;
        for (const auto& r : s.records)
            if (r.incident_id == inc.id) bytes += r.payload.size() + r.key.size() + r.last_error.size() + 160;
        candidates.push_back({inc.id, inc.resolved_at.value_or(inc.opened_at), bytes});
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const candidate& a, const candidate& b) { return a.resolved < b.resolved || (a.resolved == b.resolved && a.id < b.id); });
    std::size_t next = 0;
    // Estimates, so a few rounds at most: each drops enough for the excess measured, then measures.
    while (out.value.size() > limit && next < candidates.size()) {
        std::size_t excess = out.value.size() - limit, freed = 0;
        std::vector<std::uint64_t> drop;
        while (freed < excess && next < candidates.size()) {
            drop.push_back(candidates[next].id);
            freed += candidates[next].bytes;
            ++next;
        }
        auto gone = [&](std::uint64_t id) { return std::find(drop.begin(), drop.end(), id) != drop.end(); };
        std::erase_if(s.incidents, [&](const incident::incident& inc) { return gone(inc.id); });
        std::erase_if(s.records, [&](const state::record& r) { return gone(r.incident_id); });
        out.left_out += drop.size();
        out.value = encode_partition_state(s);
    }
    return out;
}

std::optional<partition_state> decode_partition_state(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    if (i64(o, "v") != 1) return std::nullopt;
    partition_state s;
    s.partition = static_cast<int>(i64(o, "partition"));
    s.epoch = u64(o, "epoch");
    s.next_sequence = std::max<std::uint64_t>(1, u64(o, "next_sequence"));
    s.last_stream_sequence = u64(o, "last_stream_sequence");
    s.counted = u64(o, "counted");
    s.window_from = u64(o, "window_from");
    if (const auto* a = o.if_contains("incidents"); a && a->is_array()) {
        for (const auto& e : a->get_array()) {
            if (!e.is_string()) return std::nullopt;
            auto inc = incident::incident_from_json(e.get_string());
            if (!inc) return std::nullopt;
            s.incidents.push_back(std::move(*inc));
        }
    }
    if (const auto* a = o.if_contains("records"); a && a->is_array()) {
        for (const auto& e : a->get_array()) {
            if (!e.is_object()) return std::nullopt;
            const auto& j = e.get_object();
            state::record r;
            r.key = str(j, "key");
            r.incident_id = u64(j, "incident");
            r.channel = str(j, "channel");
            r.kind = str(j, "kind");
            r.payload = str(j, "payload");
            auto st = state::record_state_from_string(str(j, "state"));
            if (!st || r.key.empty()) return std::nullopt;
            r.state = *st;
            r.attempts = static_cast<int>(i64(j, "attempts"));
            r.started = static_cast<int>(i64(j, "started"));
            r.created_at = from_us(i64(j, "created_us"));
            r.next_attempt = from_us(i64(j, "next_us"));
            if (j.contains("done_us")) r.done_at = from_us(i64(j, "done_us"));
            r.last_error = str(j, "error");
            s.records.push_back(std::move(r));
        }
    }
    if (const auto* a = o.if_contains("silences"); a && a->is_array()) {
        for (const auto& e : a->get_array()) {
            if (!e.is_object()) return std::nullopt;
            const auto& j = e.get_object();
            s.silences.push_back({str(j, "rule"), str(j, "key"), str(j, "who"), from_us(i64(j, "until_us"))});
        }
    }
    if (const auto* d = o.if_contains("detectors"); d && d->is_object()) {
        for (const auto& [rule, bytes] : d->get_object()) {
            if (!bytes.is_string()) return std::nullopt;
            auto raw = unhex(bytes.get_string());
            if (!raw) return std::nullopt;
            s.detectors.emplace(std::string(rule), std::move(*raw));
        }
    }
    return s;
}

}  // namespace crisisd::runtime
