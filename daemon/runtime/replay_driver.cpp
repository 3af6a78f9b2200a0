#include "runtime/replay_driver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "parse/frame_parser.hpp"
#include "state/database.hpp"

namespace crisisd::runtime {

replay_driver::replay_driver(replay_settings settings, report::timeline* timeline)
    : settings_(std::move(settings)), timeline_(timeline) {}

std::string replay_driver::open(std::unique_ptr<pipeline::pipeline> pipe, const std::string& db_path) {
    auto opened_db = state::database::open(db_path);
    if (auto* e = std::get_if<state::open_error>(&opened_db)) return e->message;
    store_ = std::move(std::get<std::unique_ptr<state::database>>(opened_db));
    det_.pipe = std::move(pipe);
    writer_ = std::make_unique<step_writer>(*store_, clock_, *this);
    follow_ = std::make_unique<follow_ups>(*store_, settings_.channel_types);
    steps_ = std::make_unique<step_handler>(det_, *writer_, *follow_, clock_, *this);
    // No detector snapshots (nothing restarts from this database); the retention sweep runs
    // daily in event time, so a year of stream does not pile a year of incidents up in it
    // (hourly, as live, it was a sixth of a year's replay for nothing a day would not do).
    housekeeping_settings hs;
    hs.retention = settings_.retention;
    hs.save_detector_every.reset();
    hs.sweep_every = std::chrono::hours(24);
    keeper_ = std::make_unique<housekeeping>(*store_, det_, *writer_, *steps_, clock_, *this, hs);
    in_ = std::make_unique<intake>(*store_, det_, clock_, exec_, *this);
    return "";
}

// A recording names the source each line came from. Its authors count as they would live:
// believed when that configured source vouches for them (platform format or `trusted: true`),
// the source's one anonymous author when it does not; its max_rate applies in event time. A
// name no configured source has is the operator's own recording of a platform: believed.
lane& replay_driver::lane_for(std::string_view name) {
    if (auto it = lanes_.find(name); it != lanes_.end()) return *it->second;
    auto configured = std::find_if(settings_.sources.begin(), settings_.sources.end(),
                                   [&](const lane_settings& s) { return s.name == name; });
    lane_settings ls;
    if (configured != settings_.sources.end()) {
        ls = *configured;
    } else {
        ls.name = std::string(name);
        ls.trusted = true;
    }
    auto& l = in_->add(ls, nullptr, nullptr, probe_);
    lanes_.emplace(ls.name, &l);
    return l;
}

// Advances event time to t: fires every deadline and the clearing ticks on the way, once a
// second of event time at most (what the live daemon does every 250 ms of wall time).
void replay_driver::advance(core::timestamp t) {
    if (!last_tick_) {
        last_tick_ = t;
        clock_.set(t);
        return;
    }
    for (;;) {
        auto next = *last_tick_ + std::chrono::seconds(1);
        if (auto d = det_.pipe->next_deadline(); d && *d > *last_tick_ && *d < next) next = *d;
        if (next > t) break;
        clock_.set(next);
        keeper_->tick();
        last_tick_ = next;
    }
    clock_.set(t);
}

bool replay_driver::all_done() const {
    bool open = false;
    det_.pipe->incidents().for_each_open([&](const incident::incident&) { open = true; });
    return !open && !det_.pipe->next_deadline();
}

replay_counts replay_driver::feed(std::FILE* in, const skipped_fn& skipped) {
    replay_counts c;
    auto parser = parse::make_parser(parse::parser_settings{});
    core::mention m;
    std::uint64_t line_no = 0;
    char* buf = nullptr;
    std::size_t cap = 0;
    ssize_t n;
    while ((n = ::getline(&buf, &cap, in)) >= 0) {
        ++line_no;
        std::string_view l(buf, static_cast<std::size_t>(n));
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
        if (l.empty()) continue;
        const auto res = parser->parse(l, m);
        if (res.kind == parse::frame_kind::rejected) {
            ++c.rejected;
            if (skipped) skipped(line_no, parse::to_string(res.reason));
            continue;
        }
        if (m.created_at) {
            // Recorded streams are not perfectly ordered; event time never runs backwards.
            if (!c.now || *m.created_at > *c.now) c.now = *m.created_at;
        } else {
            ++c.no_time;
        }
        if (!c.now) continue;  // nothing to place it in time by
        advance(*c.now);
        in_->offer_parsed(lane_for(m.network), m, res, parser->dedup_key());
    }
    std::free(buf);
    if (c.now) {
        const auto end = *c.now + std::chrono::hours(24);
        for (auto t = *c.now; t < end && !all_done();) {
            t += std::chrono::seconds(10);
            advance(t);
        }
    }
    c.duplicates = probe_.duplicates;
    c.rate_limited = probe_.rate_limited;
    return c;
}

// Replay's channels are recorders that take every action at once: it is marked sent at its
// event time, so the outbox holds what a run whose channels all answered would hold, and the
// retention sweep can let its incident go (it keeps incidents with pending actions).
void replay_driver::action_queued(const incident::action& a) {
    if (auto rec = store_->actions().find(a.idempotency_key)) store_->actions().mark_sent(rec->seq, clock_.now());
    log_.emitted(a);
    if (timeline_) {
        timeline_->set_time(clock_.now());
        timeline_->action_queued(a);
    }
}

void replay_driver::incident_opened(const incident::incident& inc, double) {
    ++opened_;
    if (timeline_) {
        timeline_->set_time(clock_.now());
        timeline_->incident_opened(inc);
    }
}

void replay_driver::incident_resolved(const incident::incident& inc) {
    if (timeline_) {
        timeline_->set_time(clock_.now());
        timeline_->incident_resolved(inc);
    }
}

void replay_driver::ticked(core::timestamp now, const pipeline::pipeline& p) {
    log_.sample(p, now);
    if (chart_) chart_->sample(p, now);
}

std::string replay_driver::report_json(const std::vector<incident::playbook_settings>& playbooks,
                                       core::timestamp now) const {
    report::incident_log::view_options vo;
    vo.now = now;
    vo.detail = false;
    return log_.write_all(
        *det_.pipe, playbooks, [](const incident::action&) { return report::delivery_status::sent; }, vo, false,
        det_.pipe->processed());
}

}  // namespace crisisd::runtime
