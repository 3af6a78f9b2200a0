#include "state/detector_snapshots.hpp"

#include <array>
#include <cstdio>
#include <optional>
#include <string_view>

#include "core/base64.hpp"

namespace crisisd::state {
namespace {

struct fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void bytes(std::string_view s) {
        for (char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ull;
        }
        h ^= 0xff;  // separator, so ["ab","c"] and ["a","bc"] differ
        h *= 0x100000001b3ull;
    }
    void list(const std::vector<std::string>& v) {
        bytes(std::to_string(v.size()));
        for (const auto& s : v) bytes(s);
    }
};

std::string hex(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

constexpr std::string_view format_tag = "v1";

std::string key(const pipeline::rule_settings& rule) { return "detector:" + rule.name; }

}  // namespace

std::uint64_t rule_fingerprint(const pipeline::rule_settings& rule) {
    fnv1a f;
    f.list(rule.match.keywords);
    f.list(rule.match.exclude);
    f.list(rule.match.languages);
    f.list(rule.match.sources);
    const auto& d = rule.detect;
    f.bytes(std::to_string(d.group_by));
    f.bytes(std::to_string(d.window.count()));
    f.bytes(std::to_string(d.baseline.count()));
    // Doubles as exact text: a changed floor or threshold by any amount is a change.
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a %a", d.min_baseline_rate, d.negative_threshold);
    f.bytes(buf);
    f.bytes(std::to_string(d.max_per_author));
    return f.h;
}


detector_state_outcome detector_snapshots::save(const pipeline::pipeline& p) {
    detector_state_outcome out;
    for (std::size_t i = 0; i < p.rules().size(); ++i) {
        const auto& rule = p.rules()[i];
        const std::string bytes = p.detector().save_rule(i);
        std::string value;
        value.reserve(bytes.size() * 4 / 3 + 32);
        value.append(format_tag).append(" ").append(hex(rule_fingerprint(rule))).append(" ");
        value += core::to_base64(bytes);
        meta_.set(key(rule), value);
        ++out.rules;
        out.bytes += bytes.size();
    }
    return out;
}

detector_state_outcome detector_snapshots::restore(pipeline::pipeline& p) {
    detector_state_outcome out;
    for (std::size_t i = 0; i < p.rules().size(); ++i) {
        const auto& rule = p.rules()[i];
        const auto saved = meta_.get(key(rule));
        if (!saved) continue;
        std::string_view v = *saved;
        const std::string want = std::string(format_tag) + " " + hex(rule_fingerprint(rule)) + " ";
        if (!v.starts_with(format_tag)) {
            ++out.unreadable;
            continue;
        }
        if (!v.starts_with(want)) {
            ++out.changed;
            continue;
        }
        v.remove_prefix(want.size());
        const auto bytes = core::from_base64(v);
        if (!bytes || !p.detector().load_rule(i, *bytes)) {
            ++out.unreadable;
            continue;
        }
        ++out.rules;
        out.bytes += bytes->size();
    }
    return out;
}

std::vector<bool> carry_detector_state(const pipeline::pipeline& from, pipeline::pipeline& to) {
    std::vector<bool> carried(to.rules().size(), false);
    for (std::size_t i = 0; i < to.rules().size(); ++i) {
        const auto& rule = to.rules()[i];
        const std::size_t j = from.rule_index(rule.name);
        if (j >= from.rules().size() || rule_fingerprint(from.rules()[j]) != rule_fingerprint(rule)) continue;
        carried[i] = to.detector().load_rule(i, from.detector().save_rule(j));
    }
    return carried;
}

}  // namespace crisisd::state
