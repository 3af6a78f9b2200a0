// A feed source's documents through feed_intake: the first poll is history, later polls hand on
// only new items (oldest first), and what was seen survives a restart of the state database.
#include "sources/feed_intake.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "fakes/manual_clock.hpp"
#include "state/database.hpp"

namespace crisisd::sources {
namespace {

const core::timestamp t0 = core::timestamp{} + std::chrono::hours(24 * 20000);

std::string rss(const std::vector<std::string>& ids) {
    // Newest first, as feeds list them.
    std::string items;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it)
        items += "<item><guid>" + *it + "</guid><title>title " + *it + "</title><description>body " + *it +
                 "</description></item>";
    return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>forum</title>" + items + "</channel></rss>";
}

struct feed_intake_test : ::testing::Test {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("crisisd-feed-intake-" + std::to_string(::getpid()) + "-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    testing::manual_clock clock{t0};
    std::unique_ptr<state::database> store;
    std::vector<std::string> frames, counted, rejected;

    feed_intake_test() {
        std::filesystem::remove_all(dir);
        reopen();
    }
    ~feed_intake_test() override { std::filesystem::remove_all(dir); }

    void reopen() {
        store.reset();
        auto r = state::database::open((dir / "state.db").string());
        ASSERT_TRUE(std::holds_alternative<std::unique_ptr<state::database>>(r));
        store = std::move(std::get<std::unique_ptr<state::database>>(r));
    }

    feed_intake make() {
        return feed_intake("forum", 1 << 20, *store, clock,
                           feed_intake::hooks{[this](std::string_view f) { frames.emplace_back(f); },
                                              [this](std::string_view k) { counted.emplace_back(k); },
                                              [this](std::string_view r) { rejected.emplace_back(r); }});
    }
};

TEST_F(feed_intake_test, first_poll_is_history_later_polls_hand_on_new_items_oldest_first) {
    auto in = make();
    in.on_document(rss({"a", "b"}));
    EXPECT_TRUE(frames.empty());
    EXPECT_EQ(counted, (std::vector<std::string>{"history", "history"}));

    counted.clear();
    clock.advance(std::chrono::minutes(5));
    in.on_document(rss({"a", "b", "c", "d"}));
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_NE(frames[0].find("\"id\":\"c\""), std::string::npos) << frames[0];
    EXPECT_NE(frames[0].find("<p>title c</p>body c"), std::string::npos) << frames[0];
    EXPECT_NE(frames[1].find("\"id\":\"d\""), std::string::npos) << frames[1];
    EXPECT_EQ(counted, (std::vector<std::string>{"duplicate", "duplicate"}));
}

TEST_F(feed_intake_test, a_restart_re_emits_nothing_it_saw) {
    {
        auto in = make();
        in.on_document(rss({"a"}));
        in.on_document(rss({"a", "b"}));
    }
    ASSERT_EQ(frames.size(), 1u);
    reopen();
    frames.clear();
    counted.clear();
    auto in = make();
    in.on_document(rss({"a", "b", "c"}));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_NE(frames[0].find("\"id\":\"c\""), std::string::npos) << frames[0];
    EXPECT_EQ(counted, (std::vector<std::string>{"duplicate", "duplicate"}));
}

// Cluster mode: what one holder shares (recent()) is what the next imports before its first
// poll, which then hands on only what came since, on a database that never saw the feed.
TEST_F(feed_intake_test, a_feed_moved_to_another_database_resumes_from_the_shared_ids) {
    std::vector<std::string> shared;
    {
        auto in = make();
        EXPECT_EQ(in.recent(), nullptr);  // nothing read: nothing to share yet
        in.on_document(rss({"a", "b"}));
        in.on_document(rss({"b", "c"}));
        ASSERT_NE(in.recent(), nullptr);
        shared = *in.recent();
    }
    EXPECT_EQ(shared, (std::vector<std::string>{"a", "b", "c"}));  // oldest first, each once
    std::filesystem::remove_all(dir);  // the next holder's own, empty database
    reopen();
    frames.clear();
    counted.clear();
    ASSERT_TRUE(feed_intake::import(*store, "forum", shared, clock.now()));
    auto in = make();
    in.on_document(rss({"b", "c", "d"}));
    ASSERT_EQ(frames.size(), 1u);  // not history: the feed was polled before, elsewhere
    EXPECT_NE(frames[0].find("\"id\":\"d\""), std::string::npos) << frames[0];
    EXPECT_EQ(counted, (std::vector<std::string>{"duplicate", "duplicate"}));
}

TEST_F(feed_intake_test, a_document_that_is_not_a_feed_is_rejected_whole) {
    auto in = make();
    in.on_document("<html><body>maintenance</body></html>");
    EXPECT_TRUE(frames.empty());
    EXPECT_EQ(rejected.size(), 1u);
}

}  // namespace
}  // namespace crisisd::sources
