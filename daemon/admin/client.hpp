#pragma once
// A client of the admin API, for `crisisd ctl`: one request, sent with the bearer token, on an
// io_context of its own (it blocks until the answer or a 10-second timeout). Thread-safe: each
// call has its own state.
#include <string>

namespace crisisd::admin {

struct api_reply {
    int status = 0;       // HTTP status; 0 when the daemon did not answer
    std::string body;
    // Why not: the transport's error when status is 0, the API's "error" member (or the whole
    // body when it has none) when status is 300 or more.
    std::string error;
};

// `base` is the daemon's URL ("http://127.0.0.1:9464"), `path` the API path; an empty token
// sends no Authorization header, an empty body no Content-Type.
api_reply call_api(const std::string& base, const std::string& token, std::string method, const std::string& path,
                   std::string body);

}  // namespace crisisd::admin
