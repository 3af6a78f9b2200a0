#include "config/detail/statement_fields.hpp"

#include <set>
#include <string>
#include <utility>

namespace crisisd::config::detail {

void resolve_statement_fields(context& ctx, settings& config) {
    for (auto& p : config.playbooks) {
        if (p.status_url.empty()) p.status_url = config.status_url;
    }

    for (const auto& p : config.playbooks) {
        if (!p.status_url.empty()) continue;
        std::set<std::string> posted;  // each statement once, however many steps post it
        for (const auto* steps : {&p.steps, &p.on_resolve}) {
            for (const auto& step : *steps) {
                if (step.kind == incident::step_kind::statement) posted.insert(step.statement);
            }
        }
        for (std::size_t i = 0; i < config.statements.size(); ++i) {
            const auto& s = config.statements[i];
            if (posted.count(s.name) == 0) continue;
            for (const auto& [language, text] : s.text) {
                const location* at = ctx.placeholder_at(i, language, "status_url");
                if (at == nullptr) continue;
                ctx.error(*at, "statement '" + s.name + "' (" + language + ") uses {status_url}, but playbook '" +
                                   p.name + "', which posts it, has no status URL: set 'status_url' to the status "
                                   "page (like https://status.example.com) at the top level or in the playbook");
            }
        }
    }
}

}  // namespace crisisd::config::detail
