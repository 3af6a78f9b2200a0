// https:// with the test CA in tests/data/tls: verification must succeed only with the CA
// and only for the names the certificate carries.
#include <gtest/gtest.h>

#include <optional>

#include "fakes/io_thread.hpp"
#include "fakes/localhost.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace crisisd::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::string tls_dir = std::string(CRISISD_TEST_DATA) + "/tls/";

class https_test : public ::testing::Test {
protected:
    void start(const std::string& cert) {
        http_server_options options;
        options.cert_file = tls_dir + cert + ".pem";
        options.key_file = tls_dir + cert + ".key";
        server_.emplace(server_io_.executor(), options,
                        [](const http_request_in& in) -> asio::awaitable<http_response_out> {
                            http_response_out out;
                            out.body = "secure " + in.body;
                            co_return out;
                        });
        ASSERT_FALSE(server_->start());
    }
    http_response send(const std::string& host, tls_options tls) {
        http_client client(io_.get_executor(), std::move(tls));
        http_request r;
        r.url = "https://" + host + ":" + std::to_string(server_->port()) + "/hook";
        r.body = "hello";
        r.timeout = 5s;
        return testing::run_sync(io_, client.send(r));
    }

    testing::io_thread server_io_;
    std::optional<http_server> server_;
    asio::io_context io_;
};

TEST_F(https_test, verifies_the_chain_with_the_ca_file_for_ip_and_name) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    start("server");
    auto by_ip = send("127.0.0.1", {tls_dir + "ca.pem"});
    EXPECT_EQ(by_ip.error, "");
    EXPECT_EQ(by_ip.status, 200);
    EXPECT_EQ(by_ip.body, "secure hello");
    auto by_name = send("localhost", {tls_dir + "ca.pem"});
    EXPECT_EQ(by_name.error, "");
    EXPECT_EQ(by_name.status, 200);
}

TEST_F(https_test, refuses_an_untrusted_certificate) {
    start("server");
    auto res = send("127.0.0.1", {});
    EXPECT_EQ(res.status, 0);
    EXPECT_EQ(res.error.rfind("tls: ", 0), 0u) << res.error;
    EXPECT_NE(res.error.find("certificate"), std::string::npos) << res.error;
}

TEST_F(https_test, refuses_a_certificate_for_another_host) {
    CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES();
    start("wrong_host");
    auto res = send("127.0.0.1", {tls_dir + "ca.pem"});
    EXPECT_EQ(res.status, 0);
    EXPECT_EQ(res.error.rfind("tls: ", 0), 0u) << res.error;
    auto by_name = send("localhost", {tls_dir + "ca.pem"});
    EXPECT_EQ(by_name.status, 0);
    EXPECT_NE(by_name.error.find("mismatch"), std::string::npos) << by_name.error;
}

TEST_F(https_test, reports_an_unreadable_ca_file) {
    start("server");
    auto res = send("127.0.0.1", {tls_dir + "missing.pem"});
    EXPECT_EQ(res.status, 0);
    EXPECT_NE(res.error.find("ca_file"), std::string::npos) << res.error;
}

}  // namespace
}  // namespace crisisd::net
