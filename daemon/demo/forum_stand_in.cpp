// The demo's forum: an Atom feed of the forum's latest posts that grows as the story goes, served
// the way a cache-aware origin serves it (ETag, 304 Not Modified when If-None-Match matches).
#include <boost/asio/use_awaitable.hpp>

#include "demo/stand_in.hpp"
#include "demo/wire.hpp"
#include "net/http_server.hpp"

namespace crisisd::demo {
namespace {

// What the feed lists: the newest this many posts, as forums do.
constexpr std::size_t listed = 50;

// Threads from before the story: in the feed when crisisd first polls it, so they are history.
std::vector<post> older_threads() {
    const auto day_before = [](const char* t) { return core::parse_rfc3339(t).value_or(core::timestamp{}); };
    return {
        {"forum", "tag:forum.linz-online.example,2026:post-4790", "resi_ooe", "",
         "Welcher Router für Liwest Glasfaser? Der mitgelieferte ist mir zu laut.",
         "https://forum.linz-online.example/t/router-glasfaser/4790/1", day_before("2026-11-25T17:42:10Z")},
        {"forum", "tag:forum.linz-online.example,2026:post-4795", "lee_ooe", "",
         "Liwest TV App am Fire TV Stick: hat das schon wer probiert?",
         "https://forum.linz-online.example/t/tv-app/4795/1", day_before("2026-11-25T21:03:55Z")},
    };
}

class forum final : public forum_stand_in {
public:
    explicit forum(boost::asio::any_io_executor ex)
        : posts_(older_threads()),
          server_(std::move(ex), {}, [this](const net::http_request_in& req) -> boost::asio::awaitable<net::http_response_out> {
              co_return answer(req);
          }) {}

    boost::system::error_code start() { return server_.start(); }

    std::string url() const override { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/latest.atom"; }
    std::string_view source() const override { return "forum"; }
    bool ready() const override { return polled_; }
    void publish(const post& p) override {
        posts_.push_back(p);
        if (posts_.size() > listed) posts_.erase(posts_.begin());
        unserved_.push_back(p);
        ++version_;
    }
    bool caught_up() const override { return unserved_.empty(); }
    void stop() override { server_.stop(); }

private:
    std::string etag() const { return "\"v" + std::to_string(version_) + "\""; }

    net::http_response_out answer(const net::http_request_in& req) {
        net::http_response_out r;
        if (req.path() != "/latest.atom") {
            r.status = 404;
            r.body = "not found\n";
            return r;
        }
        r.headers.emplace_back("ETag", etag());
        r.headers.emplace_back("Cache-Control", "no-cache");
        if (req.header("If-None-Match") == etag()) {
            r.status = 304;
            return r;
        }
        r.content_type = "application/atom+xml; charset=utf-8";
        r.body = atom_feed(url(), posts_);
        if (!polled_) {
            polled_ = true;
            note("forum: crisisd read the feed for the first time; its " + std::to_string(posts_.size()) +
                 " older post(s) are history, not news");
        }
        for (const auto& p : unserved_) delivered(p);
        unserved_.clear();
        return r;
    }

    std::vector<post> posts_;  // oldest first
    std::vector<post> unserved_;
    std::uint64_t version_ = 1;
    bool polled_ = false;
    net::http_server server_;
};

}  // namespace

std::unique_ptr<forum_stand_in> make_forum(boost::asio::any_io_executor ex, std::string& error) {
    auto f = std::make_unique<forum>(std::move(ex));
    if (auto ec = f->start()) {
        error = "cannot start the forum stand-in: " + ec.message();
        return nullptr;
    }
    return f;
}

}  // namespace crisisd::demo
