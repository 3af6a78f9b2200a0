// The demo's Meta: webhooks for the company's Page. It subscribes the way Meta does (a GET
// with hub.mode=subscribe, the verify token and a challenge crisisd must echo), then delivers
// the Page's `feed` changes — comments on the Page's post about the outage — as POSTs whose
// X-Hub-Signature-256 is the HMAC-SHA256 of the raw body keyed with the app secret. Comments
// that come together go in one delivery (Meta batches); a delivery not answered 200 is sent
// again (Meta retries), and crisisd's de-duplication by comment id keeps it from counting twice.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <vector>

#include "demo/stand_in.hpp"
#include "demo/wire.hpp"
#include "net/http_client.hpp"

namespace crisisd::demo {
namespace {

namespace asio = boost::asio;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::string hex_hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xF];
    }
    return out;
}

class facebook final : public facebook_stand_in {
public:
    facebook(asio::any_io_executor ex, std::string verify_token, std::string app_secret)
        : ex_(ex), client_(ex), wake_(ex), verify_token_(std::move(verify_token)), app_secret_(std::move(app_secret)) {}

    void start(std::string callback_url) override {
        callback_ = std::move(callback_url);
        asio::co_spawn(ex_, run(), asio::detached);
    }
    std::string_view source() const override { return "page"; }
    bool ready() const override { return subscribed_; }
    void publish(const post& p) override {
        pending_.push_back(p);
        wake_.cancel();
    }
    bool caught_up() const override { return pending_.empty() && !sending_; }
    void stop() override {
        stopped_ = true;
        wake_.cancel();
    }

private:
    asio::awaitable<void> run() {
        co_await subscribe();
        while (!stopped_) {
            if (pending_.empty()) {
                wake_.expires_after(std::chrono::hours(1));
                co_await wake_.async_wait(nothrow);
                continue;
            }
            auto batch = std::move(pending_);
            pending_.clear();
            sending_ = true;
            co_await deliver(batch);
            sending_ = false;
        }
    }

    // Meta's verification request, until crisisd's listener is up and echoes the challenge.
    asio::awaitable<void> subscribe() {
        const std::string challenge = "1158201444";
        for (int attempt = 0; !stopped_; ++attempt) {
            net::http_request r;
            r.method = "GET";
            r.url = callback_ + "?hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + verify_token_;
            r.timeout = std::chrono::seconds(2);
            auto res = co_await client_.send(std::move(r));
            if (res.status == 200 && res.body == challenge) {
                subscribed_ = true;
                note("page: crisisd answered Meta's subscription handshake; the Page's comments are delivered to it");
                co_return;
            }
            if (res.status != 0 && attempt == 0) note("page: the subscription handshake was refused (" + std::to_string(res.status) + ")");
            co_await pause(std::chrono::milliseconds(50));
        }
    }

    asio::awaitable<void> deliver(const std::vector<post>& batch) {
        const auto body = facebook_delivery(batch);
        const auto signature = "sha256=" + hex_hmac_sha256(app_secret_, body);
        while (!stopped_) {
            net::http_request r;
            r.method = "POST";
            r.url = callback_;
            r.headers = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", signature}};
            r.body = body;
            r.timeout = std::chrono::seconds(5);
            auto res = co_await client_.send(std::move(r));
            if (res.status == 200) {
                for (const auto& p : batch) delivered(p);
                co_return;
            }
            co_await pause(std::chrono::milliseconds(200));  // Meta retries a failed delivery
        }
    }

    asio::awaitable<void> pause(std::chrono::milliseconds d) {
        asio::steady_timer t(ex_);
        t.expires_after(d);
        co_await t.async_wait(nothrow);
    }

    asio::any_io_executor ex_;
    net::http_client client_;
    asio::steady_timer wake_;
    std::string verify_token_, app_secret_, callback_;
    std::vector<post> pending_;
    bool subscribed_ = false, sending_ = false, stopped_ = false;
};

}  // namespace

std::unique_ptr<facebook_stand_in> make_facebook(asio::any_io_executor ex, std::string verify_token, std::string app_secret) {
    return std::make_unique<facebook>(std::move(ex), std::move(verify_token), std::move(app_secret));
}

}  // namespace crisisd::demo
