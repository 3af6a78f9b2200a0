#include "runtime/action_payload.hpp"

#include "incident/codec.hpp"

namespace crisisd::runtime {

std::string action_payload(const incident::action& a, const incident::incident* inc, std::string_view console_url) {
    return incident::action_to_json(a, inc, console_url);
}

}  // namespace crisisd::runtime
