// The pure halves of resuming a stream: where to reconnect, and which replayed frames to drop.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>

#include "ingest/dedup_window.hpp"
#include "ingest/jetstream_resume.hpp"

using namespace crisisd::ingest;
using namespace std::chrono_literals;

TEST(dedup_window, passes_a_key_once_and_forgets_the_oldest_beyond_capacity) {
    dedup_window w(3);
    EXPECT_TRUE(w.first_time("a"));
    EXPECT_FALSE(w.first_time("a"));
    EXPECT_TRUE(w.first_time("b"));
    EXPECT_TRUE(w.first_time("c"));
    EXPECT_TRUE(w.first_time("d"));  // "a" forgotten
    EXPECT_EQ(w.size(), 3u);
    EXPECT_TRUE(w.first_time("a"));
    EXPECT_FALSE(w.first_time("d"));
    EXPECT_TRUE(w.first_time(""));
    EXPECT_TRUE(w.first_time("")) << "an empty key is never a duplicate";
}

TEST(jetstream_resume, asks_for_the_wanted_collections_and_dids_and_live_tail_at_first) {
    jetstream_resume r("wss://jetstream2.us-east.bsky.network/subscribe", {"app.bsky.feed.post", "app.bsky.feed.*"},
                       {"did:plc:abc"});
    EXPECT_EQ(r.url(),
              "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
              "&wantedCollections=app.bsky.feed.*&wantedDids=did:plc:abc");
    EXPECT_EQ(r.position(), 0);
}

TEST(jetstream_resume, resumes_a_few_seconds_before_the_last_processed_event) {
    jetstream_resume r("ws://127.0.0.1:1/subscribe?compress=false", {"app.bsky.feed.post"}, {}, 5s);
    r.advance(1725519626134432);
    r.advance(1725519626000000);  // never backwards
    EXPECT_EQ(r.position(), 1725519626134432);
    EXPECT_EQ(r.url(), "ws://127.0.0.1:1/subscribe?compress=false&wantedCollections=app.bsky.feed.post"
                       "&cursor=1725519621134432");
}

TEST(jetstream_resume, asks_to_be_saved_once_per_stream_second) {
    jetstream_resume r("ws://h/subscribe", {}, {});
    r.restore(1'000'000'000);
    EXPECT_FALSE(r.should_persist());
    r.advance(1'000'500'000);
    EXPECT_FALSE(r.should_persist());
    r.advance(1'001'000'000);
    EXPECT_TRUE(r.should_persist());
    r.persisted();
    EXPECT_FALSE(r.should_persist());
    EXPECT_EQ(r.url(), "ws://h/subscribe?cursor=996000000");
}

TEST(url_encode, keeps_nsids_dids_and_wildcards_and_escapes_the_rest) {
    EXPECT_EQ(url_encode("app.bsky.feed.*"), "app.bsky.feed.*");
    EXPECT_EQ(url_encode("did:plc:x_y-z~"), "did:plc:x_y-z~");
    EXPECT_EQ(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

TEST(dedup_window, agrees_with_a_plain_set_and_queue_through_many_evictions) {
    // Keys drawn from a small domain, so duplicates, evictions and re-admissions all happen
    // often; the ring-and-index window must answer exactly like the obvious model.
    dedup_window w(500);
    std::deque<std::string> order;
    std::set<std::string> seen;
    std::mt19937 rng(7);
    for (int i = 0; i < 200000; ++i) {
        const std::string key = "at://did:plc:x/app.bsky.feed.post/" + std::to_string(rng() % 1500);
        bool expected = !seen.contains(key);
        if (expected) {
            if (order.size() == 500) {
                seen.erase(order.front());
                order.pop_front();
            }
            order.push_back(key);
            seen.insert(key);
        }
        ASSERT_EQ(w.first_time(key), expected) << "step " << i << " key " << key;
        ASSERT_EQ(w.size(), order.size());
    }
}
