// Fuzz target for the incident codec's readers, which read what the state database hands back:
// a snapshot or an action payload written by this or an older crisisd, or a damaged row. Any
// bytes must read without a crash, and what reads as a snapshot must write and read back to the
// same bytes (nothing the reader accepts is lost or changed by a restart that saves it again).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "incident/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto inc = crisisd::incident::incident_from_json(bytes)) {
        const auto once = crisisd::incident::incident_to_json(*inc);
        auto again = crisisd::incident::incident_from_json(once);
        if (!again || crisisd::incident::incident_to_json(*again) != once) std::abort();
    }
    if (auto p = crisisd::incident::action_from_json(bytes)) {
        if (p->approval_mode && !p->has_approval) std::abort();
    }
    return 0;
}
