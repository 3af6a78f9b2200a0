// The alertmanager channel against a real Prometheus Alertmanager (Debian package
// prometheus-alertmanager), started on free loopback ports with its own config and storage:
// the alert must arrive, carry our labels, and be resolved when crisisd says so.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fakes/io_thread.hpp"
#include "net/http_client.hpp"
#include "notify/channel.hpp"

namespace crisisd::notify {
namespace {

using namespace std::chrono_literals;
constexpr const char* binary = "/usr/bin/prometheus-alertmanager";

std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

class alertmanager_process {
public:
    alertmanager_process() {
        dir_ = std::filesystem::temp_directory_path() / ("crisisd-am-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_ / "data");
        std::ofstream(dir_ / "am.yml") << "route:\n  receiver: sink\nreceivers:\n  - name: sink\n";
        port_ = free_port();
        pid_ = ::fork();
        if (pid_ == 0) {
            auto cfg = "--config.file=" + (dir_ / "am.yml").string();
            auto storage = "--storage.path=" + (dir_ / "data").string();
            auto listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
            std::string cluster = "--cluster.listen-address=";
            std::string level = "--log.level=warn";
            ::execl(binary, binary, cfg.c_str(), storage.c_str(), listen.c_str(), cluster.c_str(), level.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~alertmanager_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

std::string payload(std::string_view event, std::string_view at) {
    return std::string(R"({"idempotency_key":"42/open/0/am","kind":"notify","channel":"am","event":")") +
           std::string(event) + R"(","text":"complaints 6x baseline","at":")" + std::string(at) +
           R"(","incident":{"id":42,"rule":"isp-outage","key":"liwest","severity":"critical","state":"open","opened_at":")" +
           std::string(at) + R"("}})";
}

TEST(alertmanager_real, alert_arrives_and_is_resolved) {
    if (::access(binary, X_OK) != 0) GTEST_SKIP() << binary << " is not installed";
    alertmanager_process am;
    boost::asio::io_context io;
    net::http_client client(io.get_executor());
    auto get_alerts = [&]() -> std::optional<boost::json::array> {
        net::http_request req;
        req.method = "GET";
        req.url = am.url() + "/api/v2/alerts";
        req.timeout = 1s;
        auto resp = testing::run_sync(io, client.send(req));
        if (resp.status != 200) return std::nullopt;
        return boost::json::parse(resp.body).as_array();
    };
    bool up = false;
    for (int i = 0; i < 200 && !up; ++i) {
        up = get_alerts().has_value();
        if (!up) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(up) << "alertmanager did not come up";

    channel_settings s;
    s.name = "am";
    s.type = "alertmanager";
    s.url = am.url();
    std::string error;
    auto ch = make_channel(s, io.get_executor(), {}, error);
    ASSERT_TRUE(ch) << error;
    auto now = std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
    auto opened = core::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(now - 60s));
    auto fired = testing::run_sync(io, ch->deliver({"42/open/0/am", "notify", payload("opened", opened), 1, "5f0c"}));
    ASSERT_EQ(fired.result, outcome::sent) << fired.detail;

    auto alerts = get_alerts();
    ASSERT_TRUE(alerts);
    ASSERT_EQ(alerts->size(), 1u);
    auto& alert = alerts->at(0).as_object();
    EXPECT_EQ(alert.at("labels").at("alertname"), "isp-outage");
    EXPECT_EQ(alert.at("labels").at("key"), "liwest");
    EXPECT_EQ(alert.at("labels").at("incident_id"), "42");
    EXPECT_EQ(alert.at("labels").at("crisisd_instance"), "5f0c");
    EXPECT_EQ(alert.at("status").at("state"), "active");

    auto resolved_at = core::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(now - 1s));
    auto resolved = testing::run_sync(io, ch->deliver({"42/resolved/am", "notify", payload("resolved", resolved_at), 1, "5f0c"}));
    ASSERT_EQ(resolved.result, outcome::sent) << resolved.detail;
    // Alertmanager's API lists only alerts whose endsAt is still ahead: the resolved alert is
    // gone, whatever the filters for silenced, inhibited or unprocessed alerts say.
    net::http_request req;
    req.method = "GET";
    req.url = am.url() + "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true";
    auto resp = testing::run_sync(io, client.send(req));
    ASSERT_EQ(resp.status, 200);
    EXPECT_TRUE(boost::json::parse(resp.body).as_array().empty()) << resp.body;
}

}  // namespace
}  // namespace crisisd::notify
