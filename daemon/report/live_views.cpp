#include "report/live_views.hpp"

#include "core/json_writer.hpp"

namespace crisisd::report {

delivery_status live_views::status(const incident::action& a) const {
    auto rec = store_.actions().find(a.idempotency_key);
    return delivery_status_of(rec ? &*rec : nullptr);
}

incident_log::view_options live_views::view(bool detail) const {
    incident_log::view_options o;
    o.now = clock_.now();
    o.detail = detail;
    const core::clock* c = &clock_;
    o.wall_ms = [c](core::duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(c->wall_delay(d)).count();
    };
    return o;
}

std::string live_views::all_json(const pipeline::pipeline& p,
                                 const std::vector<incident::playbook_settings>& playbooks,
                                 std::optional<std::size_t> resolved_limit) const {
    return log_.write_list(p, playbooks, [this](const incident::action& a) { return status(a); }, view(true),
                           resolved_limit);
}

std::optional<std::string> live_views::one_json(const pipeline::pipeline& p,
                                                const std::vector<incident::playbook_settings>& playbooks,
                                                std::uint64_t id, bool series) const {
    const auto* inc = p.incidents().find(id);
    if (!inc) return std::nullopt;
    std::string out;
    core::json_writer w(out);
    auto o = view(true);
    o.series = series;
    log_.write(w, p, *inc, playbooks, [this](const incident::action& a) { return status(a); }, o);
    return out;
}

std::string live_views::report_json(const pipeline::pipeline& p,
                                    const std::vector<incident::playbook_settings>& playbooks) const {
    return log_.write_all(p, playbooks, [this](const incident::action& a) { return status(a); }, view(false), false,
                          p.processed());
}

}  // namespace crisisd::report
