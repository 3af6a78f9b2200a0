#pragma once
// The admin audit log: commands, refused requests and reloads, with who, when and from where.
// Owned by state::database; not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "state/detail/sqlite.hpp"

namespace crisisd::state {

// One line of the admin audit log (admin::audit_entry, stamped and numbered).
struct audit_record {
    std::int64_t seq = 0;
    core::timestamp at{};
    std::string who, address, action, target, outcome;
};

class audit_log {
public:
    explicit audit_log(detail::connection& c);

    // Only the newest max_records are kept, so a long life (or a flood that got past the admin
    // API's own per-minute limit) cannot fill the disk.
    static constexpr std::int64_t max_records = 100000;
    bool append(core::timestamp at, std::string_view who, std::string_view address, std::string_view action,
                std::string_view target, std::string_view outcome);
    // Newest first, at most `limit`.
    std::vector<audit_record> newest(std::size_t limit);

private:
    detail::connection& c_;
    detail::statement insert_, list_, trim_;
};

}  // namespace crisisd::state
