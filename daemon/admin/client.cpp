#include "admin/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "net/http_client.hpp"

namespace crisisd::admin {

api_reply call_api(const std::string& base, const std::string& token, std::string method, const std::string& path,
                   std::string body) {
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    net::http_request req;
    req.method = std::move(method);
    req.url = base + path;
    req.timeout = std::chrono::seconds(10);
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    req.body = std::move(body);
    net::http_response resp;
    bool done = false;
    boost::asio::co_spawn(io, client.send(std::move(req)), [&](std::exception_ptr, net::http_response r) {
        resp = std::move(r);
        done = true;
    });
    io.run();
    api_reply out;
    if (!done || resp.status == 0) {
        out.error = resp.error;
        return out;
    }
    out.status = resp.status;
    out.body = std::move(resp.body);
    if (out.status >= 300) {
        out.error = out.body;
        boost::system::error_code ec;
        auto v = boost::json::parse(out.body, ec);
        if (!ec && v.is_object())
            if (auto* e = v.get_object().if_contains("error"); e && e->is_string()) out.error = std::string(e->get_string());
    }
    return out;
}

}  // namespace crisisd::admin
