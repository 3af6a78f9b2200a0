#include "pipeline/pipeline.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_map>

#include "detect/detector.hpp"
#include "match/matcher.hpp"
#include "score/scorer.hpp"
#include "text/normalize.hpp"

namespace crisisd::pipeline {
namespace {

// What the pipeline remembers per live (rule, key) between the detector firing and clearing:
// the languages seen (to choose a statement's language) and the most negative mentions.
struct key_memory {
    std::size_t rule = 0;
    std::string key;
    std::map<std::string, std::size_t> languages;
    std::vector<evidence_sample> samples;  // most negative first, at most evidence_samples
    std::uint64_t incident_id = 0;
};

std::string memory_key(std::size_t rule, std::string_view key) {
    std::string k = std::to_string(rule);
    k += '\x1f';
    k.append(key);
    return k;
}

}  // namespace

struct pipeline::impl {
    pipeline_settings settings;
    std::shared_ptr<const match::matcher> matcher;
    match::scanner scanner;
    score::scorer scorer;
    detect::detector detector;
    incident::engine engine;

    std::unordered_map<std::string, key_memory> memory;
    // The entry remember() used last, or null: consecutive mentions mostly go to the same
    // (rule, key), and building memory_key() and hashing it was ~1.5% of the per-mention
    // instructions on the mixed benchmark stream. Entries do not move in an unordered_map;
    // every erase below clears this.
    key_memory* last_memory = nullptr;
    // In last_memory's languages: the count of last_language (null when last_memory changed).
    std::size_t* last_language_count = nullptr;
    std::string last_language;
    std::map<std::uint64_t, std::vector<evidence_sample>> evidence_by_incident;
    std::vector<evidence_sample> no_evidence;

    // Scratch reused for every mention so the steady state does not allocate.
    std::string plain, folded, key;

    // The mention's plain text: the text itself, or its HTML stripped into `plain` (a plain
    // text is not copied).
    std::string_view plain_text(const core::mention& m) {
        if (!m.html) return m.text;
        plain.clear();
        text::strip_html(m.text, plain);
        return plain;
    }
    std::vector<std::size_t> hits;
    std::vector<detect::signal> signals;

    // detection_author(), with the anonymous author of the last mention's source kept: building
    // and hashing "\x1f<source>" for every mention was ~100 instructions of it on the mixed
    // benchmark stream (callgrind), and consecutive mentions mostly come from one source.
    std::string anonymous_source;
    std::uint64_t anonymous_author = 0;  // 0: not computed yet (detection_author() is never 0)
    std::uint64_t author_of(const core::mention& m) {
        if (m.author_vouched && !m.author.empty()) return detection_author(m);
        if (anonymous_author == 0 || m.source != anonymous_source) {
            anonymous_source = m.source;
            anonymous_author = detection_author(m);
        }
        return anonymous_author;
    }

    std::uint64_t processed = 0, matched = 0;

    impl(pipeline_settings s, std::shared_ptr<const match::matcher> m, std::vector<detect::detector_settings> ds)
        : settings(std::move(s)),
          matcher(std::move(m)),
          scanner(*matcher),
          detector(std::move(ds)),
          engine(settings.incidents) {}

    void build_key(std::size_t rule, const core::mention& m, std::string_view lang) {
        key.clear();
        unsigned g = settings.rules[rule].detect.group_by;
        // Parts of the key may come from the wire (source, lang) and the key can reach a public
        // statement through {topic}, so wire-supplied parts are reduced to a short, plain form.
        auto add = [&](std::string_view part, bool from_wire = true) { append_key_part(key, part, from_wire); };
        if (g & detect::group_topic) add(matcher->topic(rule), false);
        if (g & detect::group_source) add(m.source);
        if (g & detect::group_lang) add(key_language(settings.rules[rule], lang));
        if (key.empty()) add(matcher->topic(rule), false);
    }

    // A rule that lists languages keys by the listed language a mention matched ("de" for a
    // wire "de-AT" or "de-anything"), so the key is one the configuration names; one that lists
    // none keys by the tag as it came (config/ refuses {topic} in its statements).
    static std::string_view key_language(const rule_settings& r, std::string_view lang) {
        for (const auto& code : r.match.languages)
            if (match::language_matches(code, lang)) return code;
        return lang;
    }

    // The rule's incidents opened within the hour before `now` (incidents are kept in opening
    // order, also across a reload or restart, so the cap does not reset with them).
    unsigned opened_last_hour(const rule_settings& r, core::timestamp now) const {
        const auto& all = engine.incidents();
        unsigned n = 0;
        for (auto it = all.rbegin(); it != all.rend() && it->opened_at > now - std::chrono::hours(1); ++it)
            if (it->rule == r.name) ++n;
        return n;
    }
    std::vector<std::uint64_t> suppressed_by_rule;

    void remember(std::size_t rule, std::string_view k, const core::mention& m, std::string_view text,
                  std::string_view lang, double compound, core::timestamp now) {
        if (last_memory == nullptr || last_memory->rule != rule || last_memory->key != k) {
            auto [it, fresh] = memory.try_emplace(memory_key(rule, k));
            if (fresh) {
                it->second.rule = rule;
                it->second.key = std::string(k);
            }
            last_memory = &it->second;
            last_language_count = nullptr;
        }
        auto& mem = *last_memory;
        // The entry's count of the mention's language, found in the map only when the entry or
        // the language differs from the last mention's (map nodes do not move).
        const std::string_view language = lang.empty() ? std::string_view("und") : lang;
        if (last_language_count == nullptr || last_language != language) {
            last_language_count = &mem.languages[std::string(language)];
            last_language.assign(language);
        }
        ++*last_language_count;
        auto& samples = mem.samples;
        std::size_t cap = settings.evidence_samples;
        if (cap == 0) return;
        if (samples.size() >= cap && samples.back().compound <= compound) return;
        evidence_sample s{m.id, m.author, std::string(text), m.url, std::string(lang), m.network, m.source, m.author_vouched, compound, now};
        auto pos = std::upper_bound(samples.begin(), samples.end(), compound,
                                    [](double c, const evidence_sample& e) { return c < e.compound; });
        samples.insert(pos, std::move(s));
        if (samples.size() > cap) samples.pop_back();
    }

    void handle_signals(core::timestamp now, step_result& out) {
        for (auto& sig : signals) {
            const auto& rule = settings.rules[sig.rule];
            auto mk = memory_key(sig.rule, sig.key);
            if (sig.kind == detect::signal_kind::fire) {
                // Over the cap, a key that would open a new incident opens none (one already open
                // for it, or a silence, opens nothing anyway).
                if (rule.max_incidents_per_hour > 0 && find_open(rule.name, sig.key) == nullptr &&
                    !engine.silenced(rule.name, sig.key, now)) {
                    const unsigned recent = opened_last_hour(rule, now);
                    if (recent >= rule.max_incidents_per_hour) {
                        if (suppressed_by_rule.size() <= sig.rule) suppressed_by_rule.resize(sig.rule + 1);
                        ++suppressed_by_rule[sig.rule];
                        out.suppressed.push_back(suppressed_incident{sig.rule, sig.key, recent});
                        continue;
                    }
                }
                incident::opening o;
                o.rule = rule.name;
                o.key = sig.key;
                o.severity = rule.severity;
                o.playbook = rule.playbook;
                o.evidence = sig.metrics;
                auto it = memory.find(mk);
                if (it != memory.end()) o.languages = it->second.languages;
                auto before = engine.incidents().size();
                auto id = engine.open(o, now, out.actions);
                if (engine.incidents().size() > before) {
                    out.opened.push_back(id);
                    if (it != memory.end()) {
                        it->second.incident_id = id;
                        evidence_by_incident[id] = it->second.samples;
                    }
                }
            } else {
                auto* open_before = find_open(rule.name, sig.key);
                engine.clear(rule.name, sig.key, now, out.actions);
                if (open_before) out.resolved.push_back(open_before->id);
                memory.erase(mk);
                last_memory = nullptr;
            }
        }
        signals.clear();
    }

    // Keys that matched but never fired leave the detector when their window empties (or when
    // max_keys evicts them); what the pipeline remembers for them goes too, so a stream of ever
    // new keys (group_by source or lang) cannot grow memory without bound. Memory of a key
    // whose incident is open stays until the incident clears. Swept once a minute of time.
    core::timestamp next_prune{};
    void prune(core::timestamp now) {
        if (now < next_prune) return;
        next_prune = now + std::chrono::minutes(1);
        for (auto it = memory.begin(); it != memory.end();) {
            const auto& mem = it->second;
            const bool open = mem.incident_id != 0 && find_open(settings.rules[mem.rule].name, mem.key) != nullptr;
            if (!open && !detector.tracks(mem.rule, mem.key)) {
                it = memory.erase(it);
                last_memory = nullptr;
            }
            else ++it;
        }
    }

    const incident::incident* find_open(std::string_view rule, std::string_view k) const {
        return engine.find_open(rule, k);
    }
};

pipeline::pipeline(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
pipeline::~pipeline() = default;

std::variant<std::unique_ptr<pipeline>, std::string> pipeline::create(pipeline_settings settings) {
    std::vector<match::match_settings> ms;
    std::vector<detect::detector_settings> ds;
    for (const auto& r : settings.rules) {
        ms.push_back(r.match);
        ds.push_back(r.detect);
    }
    auto compiled = match::matcher::compile(ms);
    if (auto* e = std::get_if<match::compile_error>(&compiled)) {
        std::string rule = e->rule < settings.rules.size() ? settings.rules[e->rule].name : "?";
        return "rule '" + rule + "': keyword '" + e->keyword + "' cannot be compiled: " + e->message;
    }
    auto m = std::get<std::shared_ptr<const match::matcher>>(std::move(compiled));
    return std::unique_ptr<pipeline>(new pipeline(std::make_unique<impl>(std::move(settings), std::move(m), std::move(ds))));
}

std::uint64_t detection_author(const core::mention& m) {
    // `| 1` keeps every hash off 0, which the detector reads as "a new author each time".
    if (m.author_vouched && !m.author.empty()) return std::hash<std::string_view>{}(m.author) | 1u;
    // The source's one anonymous author. The unit separator cannot occur in a vouched author
    // (a DID, an @account), so no real author shares this hash by construction of its input.
    std::string anonymous = "\x1f";
    anonymous += m.source;
    return std::hash<std::string_view>{}(anonymous) | 1u;
}

mention_result pipeline::process(const core::mention& m, core::timestamp now, step_result& out) {
    static const key_filter everything;
    return process(m, now, out, everything);
}

void pipeline::route(const core::mention& m, std::vector<std::pair<std::size_t, std::string>>& out) {
    auto& s = *impl_;
    out.clear();
    const std::string_view plain = s.plain_text(m);
    s.scanner.scan(text::fold_case_into(plain, s.folded), s.hits);
    std::string_view lang = m.lang;
    if (lang.empty() && !s.hits.empty()) lang = text::guess_language(plain);
    for (auto rule : s.hits) {
        if (!s.matcher->accepts(rule, lang, m.source)) continue;
        s.build_key(rule, m, lang);
        out.emplace_back(rule, s.key);
    }
}

mention_result pipeline::process(const core::mention& m, core::timestamp now, step_result& out, const key_filter& only) {
    auto& s = *impl_;
    ++s.processed;
    mention_result result;
    const std::string_view plain = s.plain_text(m);
    s.scanner.scan(text::fold_case_into(plain, s.folded), s.hits);

    // Guessed only for a mention some rule's keywords hit: the languages a rule accepts are the
    // only use of it here (~1/8 of the mixed benchmark stream hits none).
    std::string_view lang = m.lang;
    if (lang.empty() && !s.hits.empty()) lang = text::guess_language(plain);
    result.lang = lang;
    bool scored = false;
    std::uint64_t author = 0;  // once per mention, with the score: a mention may match many rules
    for (auto rule : s.hits) {
        if (!s.matcher->accepts(rule, lang, m.source)) continue;
        if (only) {
            s.build_key(rule, m, lang);
            if (!only(rule, s.key)) continue;
        }
        if (!scored) {
            result.compound = s.scorer.score(plain, lang).compound;
            author = s.author_of(m);
            scored = true;
        }
        result.matched = true;
        s.build_key(rule, m, lang);
        s.remember(rule, s.key, m, plain, lang, result.compound, now);
        detect::observation o{author, result.compound};
        s.detector.observe(rule, s.key, o, now, s.signals);
    }
    if (result.matched) ++s.matched;
    s.handle_signals(now, out);
    return result;
}

void pipeline::tick(core::timestamp now, step_result& out) {
    auto& s = *impl_;
    s.detector.tick(now, s.signals);
    s.handle_signals(now, out);
    s.engine.tick(now, out.actions);
    const std::size_t before = out.retired.size();
    s.engine.retire(now, out.retired);
    for (std::size_t i = before; i < out.retired.size(); ++i) s.evidence_by_incident.erase(out.retired[i]);
    s.prune(now);
}

std::size_t pipeline::remembered_keys() const { return impl_->memory.size(); }

std::optional<core::timestamp> pipeline::next_deadline() const { return impl_->engine.next_deadline(); }

void pipeline::shift(core::duration delta) {
    auto& s = *impl_;
    s.detector.shift(delta);
    s.engine.shift(delta);
    s.next_prune += delta;
    for (auto& [key, mem] : s.memory)
        for (auto& e : mem.samples) e.at += delta;
    for (auto& [id, samples] : s.evidence_by_incident)
        for (auto& e : samples) e.at += delta;
}
incident::engine& pipeline::incidents() { return impl_->engine; }
const incident::engine& pipeline::incidents() const { return impl_->engine; }

const std::vector<evidence_sample>& pipeline::evidence(std::uint64_t id) const {
    auto it = impl_->evidence_by_incident.find(id);
    return it == impl_->evidence_by_incident.end() ? impl_->no_evidence : it->second;
}

const rule_settings& pipeline::rule(std::size_t index) const { return impl_->settings.rules[index]; }
const std::vector<rule_settings>& pipeline::rules() const { return impl_->settings.rules; }
std::size_t pipeline::rule_index(std::string_view name) const {
    const auto& rs = impl_->settings.rules;
    for (std::size_t i = 0; i < rs.size(); ++i)
        if (rs[i].name == name) return i;
    return rs.size();
}
std::optional<detect::metrics_snapshot> pipeline::metrics(std::size_t rule, std::string_view key, core::timestamp t) const {
    return impl_->detector.metrics(rule, key, t);
}
std::size_t pipeline::live_keys() const { return impl_->detector.live_keys(); }
detect::detector& pipeline::detector() { return impl_->detector; }
const detect::detector& pipeline::detector() const { return impl_->detector; }
std::uint64_t pipeline::processed() const { return impl_->processed; }
std::uint64_t pipeline::matched() const { return impl_->matched; }
std::uint64_t pipeline::suppressed(std::size_t rule) const {
    const auto& v = impl_->suppressed_by_rule;
    return rule < v.size() ? v[rule] : 0;
}

}  // namespace crisisd::pipeline
