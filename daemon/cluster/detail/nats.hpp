#pragma once
// The C client's handles behind nats_connection; only cluster/'s .cpp files include this.
#include <nats/nats.h>

#include <string>

namespace crisisd::cluster::detail {

struct nats_handles {
    natsOptions* options = nullptr;
    natsConnection* connection = nullptr;
    jsCtx* js = nullptr;
};

// The text of a failed call: the status, and the client's last error when it says more.
inline std::string nats_error(natsStatus s) {
    std::string out = natsStatus_GetText(s);
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    if (text && *text && out.find(text) == std::string::npos) out += std::string(": ") + text;
    return out;
}

}  // namespace crisisd::cluster::detail
