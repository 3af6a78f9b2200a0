#include "runtime/rule_reload.hpp"

#include <algorithm>

#include "state/detector_snapshots.hpp"

namespace crisisd::runtime {

namespace {

const pipeline::rule_settings* find_rule(const std::vector<pipeline::rule_settings>& rules, const std::string& name) {
    auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.name == name; });
    return it == rules.end() ? nullptr : &*it;
}

}  // namespace

std::string reload_rules(detection& det, const std::vector<pipeline::rule_settings>& running,
                         pipeline::pipeline_settings next, commands& cmds, core::timestamp now,
                         std::vector<std::string>& notes) {
    std::vector<std::string> changed;
    for (const auto& r : next.rules) {
        const auto* old = find_rule(running, r.name);
        if (!old) changed.push_back(r.name + " (new)");
        else if (!(*old == r)) changed.push_back(r.name);
    }
    for (const auto& o : running)
        if (!find_rule(next.rules, o.name)) changed.push_back(o.name + " (removed)");
    const bool same_order = std::equal(next.rules.begin(), next.rules.end(), running.begin(), running.end(),
                                       [](const auto& a, const auto& b) { return a.name == b.name; });
    const auto es = next.incidents;
    std::unique_ptr<pipeline::pipeline> fresh;
    if (!changed.empty() || !same_order) {
        auto created = pipeline::pipeline::create(std::move(next));
        if (auto* e = std::get_if<std::string>(&created)) return *e;
        fresh = std::move(std::get<std::unique_ptr<pipeline::pipeline>>(created));
    }
    auto& pipe = det.pipe;
    incident::engine engine(es);
    std::vector<incident::action> none;  // a reload restarts no wait, so it emits nothing
    engine.restore(pipe->incidents().incidents(), incident::engine::restore_reason::reload, now, none);
    engine.set_next_id(std::max(engine.next_id(), pipe->incidents().next_id()));
    cmds.carry_silences(engine, fresh ? fresh->rules() : running, now);
    if (fresh) {
        // Which rules keep their state is the fingerprint's answer, as at a restart; the note
        // tells the unchanged ones from those whose conditions alone changed.
        const auto carried = state::carry_detector_state(*pipe, *fresh);
        std::size_t unchanged = 0, retuned = 0;
        for (std::size_t i = 0; i < carried.size(); ++i) {
            if (!carried[i]) continue;
            const auto* old = find_rule(running, fresh->rule(i).name);
            ++(old && *old == fresh->rule(i) ? unchanged : retuned);
        }
        fresh->incidents() = std::move(engine);
        pipe = std::move(fresh);
        std::string list;
        for (const auto& n : changed) list += (list.empty() ? "" : ", ") + n;
        notes.push_back("rules changed: " + (list.empty() ? std::string("order only") : list) +
                        "; detector state kept by " + std::to_string(unchanged) + " unchanged rule(s) and " +
                        std::to_string(retuned) + " whose conditions alone changed, the others start afresh");
    } else {
        pipe->incidents() = std::move(engine);
    }
    return "";
}

}  // namespace crisisd::runtime
