#include "report/timeline.hpp"

#include <cmath>
#include <cstdio>

#include "incident/codec.hpp"

namespace crisisd::report {
namespace {

constexpr std::string_view red = "\x1b[1;31m", green = "\x1b[1;32m", yellow = "\x1b[33m", blue = "\x1b[36m",
                           dim = "\x1b[2m", reset = "\x1b[0m";

std::string clock_time(core::timestamp t) {
    auto s = core::format_rfc3339(t);  // 2026-11-26T08:05:12Z
    return s.size() >= 19 ? s.substr(11, 8) : s;
}

std::string fixed(double v, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// What a person wants to see of a delivered action: its text, on one line.
std::string payload_text(const std::string& payload) {
    auto p = incident::action_from_json(payload);
    if (!p) return {};
    std::string out = std::move(p->text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return out;
}

}  // namespace

timeline::timeline(std::FILE* out, const core::clock* clock, bool colour) : out_(out), clock_(clock), colour_(colour) {}

core::timestamp timeline::now() const { return clock_ ? clock_->now() : fixed_; }

void timeline::line(core::timestamp t, std::string_view marker, std::string_view colour, std::string_view text) {
    std::string s;
    // Lines show the time of day; a story that crosses midnight (a replay of several days) gets
    // a date line whenever the day changes, so times are never ambiguous.
    auto date = core::format_rfc3339(t).substr(0, 10);
    if (date != last_date_) {
        last_date_ = date;
        if (colour_) s += dim;
        s += "── " + date + " (UTC) ──";
        if (colour_) s += reset;
        s += '\n';
    }
    if (colour_) s += dim;
    s += clock_time(t);
    if (colour_) s += reset;
    s += "  ";
    if (colour_ && !colour.empty()) s += colour;
    s += marker;
    s += ' ';
    s += text;
    if (colour_ && !colour.empty()) s += reset;
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), out_);
    std::fflush(out_);
}

void timeline::note(std::string_view text) { line(now(), " ", {}, text); }
void timeline::note_at(core::timestamp t, std::string_view text) { line(t, " ", {}, text); }

void timeline::source_state(std::string_view source, bool connected, std::string_view detail) {
    std::string t = "source " + std::string(source) + (connected ? " connected" : " disconnected");
    if (!detail.empty()) t += " (" + std::string(detail) + ")";
    line(now(), connected ? "~" : "!", connected ? dim : yellow, t);
}

void timeline::incident_opened(const incident::incident& inc) {
    const auto& e = inc.evidence;
    line(inc.opened_at, "▲", red,
         "INCIDENT #" + std::to_string(inc.id) + " OPENED  " + inc.rule + " / " + inc.key + "  [" + std::string(incident::to_string(inc.severity)) + "]");
    line(inc.opened_at, " ", {},
         "  evidence: " + fixed(e.negative_count, 0) + " negative of " + fixed(e.count, 0) + " mentions (" +
             fixed(e.negative_ratio * 100, 0) + "%), " + fixed(e.unique_authors, 0) + " different authors, " +
             fixed(e.volume_ratio, 1) + "x the usual volume");
    for (const auto& s : inc.steps) {
        if (s.kind == incident::step_kind::statement && s.state == incident::step_state::scheduled && s.due) {
            auto wait = std::chrono::duration_cast<std::chrono::seconds>(*s.due - inc.opened_at).count();
            line(inc.opened_at, "⏳", yellow,
                 "  statement goes out at " + clock_time(*s.due) + " (in " + std::to_string(wait / 60) + "m" +
                     (wait % 60 ? std::to_string(wait % 60) + "s" : "") + ") unless someone vetoes it:");
            line(inc.opened_at, " ", {}, "    \"" + s.preview + "\"");
        } else if (s.kind == incident::step_kind::statement && s.state == incident::step_state::awaiting_approval) {
            line(inc.opened_at, "⏳", yellow, "  statement waits for a person's approval: \"" + s.preview + "\"");
        }
    }
}

void timeline::incident_resolved(const incident::incident& inc) {
    auto t = inc.resolved_at.value_or(now());
    auto minutes = std::chrono::duration_cast<std::chrono::minutes>(t - inc.opened_at).count();
    line(t, "✔", green,
         "INCIDENT #" + std::to_string(inc.id) + " RESOLVED  " + inc.rule + " / " + inc.key + " after " +
             std::to_string(minutes) + " min");
}

void timeline::action_queued(const incident::action& a) {
    if (a.kind == incident::action_kind::statement) {
        line(a.at, "→", blue, "  statement \"" + a.statement + "\" (" + a.language + ") queued for " + a.channel);
    } else {
        line(a.at, "→", blue, "  notify " + a.channel + " (" + std::string(incident::to_string(a.event)) + ")");
    }
}

void timeline::action_delivered(const state::record& r) {
    auto t = r.done_at.value_or(now());
    if (incident::action_kind_from_string(r.kind) == incident::action_kind::statement) {
        line(t, "✉", green, "  posted to " + r.channel + ": \"" + payload_text(r.payload) + "\"");
    } else {
        line(t, "✓", dim, "  " + r.channel + " notified: " + payload_text(r.payload));
    }
}

void timeline::action_retry(const state::record& r, std::string_view detail) {
    line(now(), "!", yellow, "  delivery to " + r.channel + " failed (" + std::string(detail) + "); retrying");
}

void timeline::action_dead(const state::record& r, std::string_view why) {
    line(now(), "✗", red, "  delivery to " + r.channel + " given up: " + std::string(why));
}

void timeline::command(std::string_view verb, std::uint64_t id, std::string_view who, std::string_view result) {
    line(now(), "☛", yellow,
         std::string(who) + " " + std::string(verb) + " on incident #" + std::to_string(id) + ": " + std::string(result));
}

}  // namespace crisisd::report
