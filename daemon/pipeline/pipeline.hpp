#pragma once
// The pure chain from a parsed mention to incident actions: text clean-up, keyword matching,
// sentiment, detection and the incident engine. The daemon and `crisisd replay` run exactly this
// code; they differ only in where time comes from (the clock, or each mention's event time).
// Not thread-safe: one owner (the pipeline thread).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/mention.hpp"
#include "core/time.hpp"
#include "detect/detector.hpp"
#include "incident/engine.hpp"
#include "pipeline/settings.hpp"

namespace crisisd::pipeline {

struct pipeline_settings {
    std::vector<rule_settings> rules;
    incident::engine_settings incidents;
    std::size_t evidence_samples = 5;  // representative mentions kept per incident
};

// A mention kept as evidence of an incident (never used in anything posted publicly).
// `source` is the configured source it arrived on, `network` what the sender said it came from;
// `author_vouched` whether anyone but the sender stands behind `author` (see detection_author).
struct evidence_sample {
    std::string id, author, text, url, lang, network, source;
    bool author_vouched = false;
    double compound = 0;
    core::timestamp at{};
};

// A firing key that opened no incident because its rule reached max_incidents_per_hour.
struct suppressed_incident {
    std::size_t rule = 0;
    std::string key;
    unsigned opened_last_hour = 0;  // the rule's incidents opened within the hour before
};

// What one step of the pipeline changed, for the timeline, metrics and the outbox.
struct step_result {
    std::vector<std::uint64_t> opened;    // incident ids opened
    std::vector<std::uint64_t> resolved;  // incident ids resolved
    std::vector<incident::action> actions;
    std::vector<suppressed_incident> suppressed;
    // Incident ids whose resolved grace ran out: gone from the engine and from evidence(); what
    // the caller keeps per incident (actions, charts) should go too.
    std::vector<std::uint64_t> retired;
    void clear() {
        opened.clear();
        resolved.clear();
        actions.clear();
        suppressed.clear();
        retired.clear();
    }
    bool empty() const {
        return opened.empty() && resolved.empty() && actions.empty() && suppressed.empty() && retired.empty();
    }
};

struct mention_result {
    bool matched = false;  // touched at least one rule
    double compound = 0;
    std::string_view lang;  // as given, or guessed when a rule's keywords hit the text
};

// The author a mention counts as for detection (unique_authors, max_per_author), as a hash
// that is never 0:
// - a vouched author (core::mention::author_vouched: the platform names it, or the source is
//   configured `trusted: true`) is itself;
// - everything else — a mention without an author, or with one merely claimed by a source not
//   marked trusted — is the source's one anonymous author. Such a source adds at most 1 to
//   unique_authors, and max_per_author caps the mentions of all its unbelieved authors together:
//   whoever can write to it can name any author, so it speaks with one voice however many names
//   it uses.
std::uint64_t detection_author(const core::mention& m);

class pipeline {
public:
    // Fails with a message when a rule's keywords cannot be compiled.
    static std::variant<std::unique_ptr<pipeline>, std::string> create(pipeline_settings settings);
    ~pipeline();

    // One mention at time `now`. Appends to `out`. `m.source` must be the configured source's
    // name (matching, grouping and the anonymous author depend on it).
    mention_result process(const core::mention& m, core::timestamp now, step_result& out);
    // Cluster mode (issue 15): only the (rule, key) pairs `only` accepts are observed; the
    // others belong to partitions another replica owns.
    using key_filter = std::function<bool(std::size_t rule, std::string_view key)>;
    mention_result process(const core::mention& m, core::timestamp now, step_result& out, const key_filter& only);
    // The (rule index, key) pairs process() would observe for `m`, observing nothing: where a
    // replica publishes the mention to. Replaces `out`.
    void route(const core::mention& m, std::vector<std::pair<std::size_t, std::string>>& out);
    // Timers: clearing by silence, veto waits, escalations; and resolved incidents leaving
    // memory once their grace ran out (out.retired).
    void tick(core::timestamp now, step_result& out);
    // The earliest time tick() has scheduled work (a veto wait, an escalation), if any; the
    // detector is also re-evaluated by the caller at a steady cadence for clearing.
    std::optional<core::timestamp> next_deadline() const;
    // The caller's timeline stepped by `delta` (the wall clock was set): the detector's windows,
    // the engine's incidents, waits and silences, and the evidence all move with it.
    void shift(core::duration delta);

    incident::engine& incidents();
    const incident::engine& incidents() const;
    const std::vector<evidence_sample>& evidence(std::uint64_t incident_id) const;
    const rule_settings& rule(std::size_t index) const;
    std::size_t rule_index(std::string_view name) const;  // rules().size() when unknown
    const std::vector<rule_settings>& rules() const;
    std::optional<detect::metrics_snapshot> metrics(std::size_t rule, std::string_view key, core::timestamp t) const;
    std::size_t live_keys() const;
    // (rule, key) pairs whose languages and evidence the pipeline holds; follows live_keys()
    // within a minute of time, plus keys of open incidents.
    std::size_t remembered_keys() const;
    // The detector itself: snapshots across restarts (save_rule/load_rule), key listings for
    // charts, eviction counts for metrics.
    detect::detector& detector();
    const detect::detector& detector() const;

    std::uint64_t processed() const;
    std::uint64_t matched() const;
    // Incidents not opened because the rule was at its max_incidents_per_hour, per rule index
    // (since this pipeline was made).
    std::uint64_t suppressed(std::size_t rule) const;

private:
    struct impl;
    explicit pipeline(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace crisisd::pipeline
