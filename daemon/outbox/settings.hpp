#pragma once
#include <string>

namespace crisisd::outbox {

struct storage_settings {
    std::string path = "/var/lib/crisisd/state.db";
};

}  // namespace crisisd::outbox
