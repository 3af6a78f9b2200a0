// The mention stream's batch codec (issue 15): what a front packs is what a partition's owner
// reads, and bytes from the stream that are not a whole batch are refused, not half read.
#include "cluster/mention_batch.hpp"

#include <gtest/gtest.h>

namespace crisisd::cluster {
namespace {

core::mention full_mention() {
    core::mention m;
    m.id = "m1";
    m.text = "<p>acme \"down\"\n</p>";
    m.source = "ingest";
    m.network = "mastodon";
    m.author = "@a";
    m.lang = "en";
    m.url = "https://example.org/1";
    m.created_at = core::timestamp(core::duration(1'733'000'000'123'456));
    m.html = true;
    m.author_vouched = true;
    return m;
}

std::string batch_of(const std::vector<std::string>& entries) {
    std::string out(batch_magic);
    for (const auto& e : entries) out += e;
    return out;
}

TEST(mention_batch, mentions_round_trip_with_their_counting_flags) {
    const auto a = full_mention();
    core::mention b;
    b.id = "m2";
    b.source = "ingest";
    b.text = std::string(300, 'x');   // a length of two varint bytes
    auto counted_elsewhere = encode_batch_entry(a, true);
    set_entry_counts(counted_elsewhere, false);
    const auto bytes = batch_of({encode_batch_entry(a, true), encode_batch_entry(b, false), counted_elsewhere});
    ASSERT_EQ(count_batch(bytes), 3u);

    batch_reader r(bytes);
    core::mention back;
    bool counts = false;
    ASSERT_TRUE(r.next(back, counts));
    EXPECT_TRUE(counts);
    EXPECT_EQ(back.id, a.id);
    EXPECT_EQ(back.text, a.text);
    EXPECT_EQ(back.source, a.source);
    EXPECT_EQ(back.network, a.network);
    EXPECT_EQ(back.author, a.author);
    EXPECT_EQ(back.lang, a.lang);
    EXPECT_EQ(back.url, a.url);
    EXPECT_EQ(back.created_at, a.created_at);
    EXPECT_TRUE(back.html);
    EXPECT_TRUE(back.author_vouched);

    ASSERT_TRUE(r.next(back, counts));
    EXPECT_FALSE(counts);
    EXPECT_EQ(back.id, "m2");
    EXPECT_EQ(back.text, b.text);
    EXPECT_FALSE(back.html);
    EXPECT_FALSE(back.author_vouched);
    EXPECT_FALSE(back.created_at.has_value());
    EXPECT_TRUE(back.author.empty());

    ASSERT_TRUE(r.next(back, counts));
    EXPECT_FALSE(counts);
    EXPECT_EQ(back.id, "m1");
    EXPECT_FALSE(r.next(back, counts));
    EXPECT_FALSE(r.damaged());
}

TEST(mention_batch, an_empty_batch_holds_nothing) {
    EXPECT_EQ(count_batch(batch_magic), 0u);
    batch_reader r(batch_magic);
    core::mention m;
    bool counts = true;
    EXPECT_FALSE(r.next(m, counts));
    EXPECT_FALSE(r.damaged());
}

TEST(mention_batch, bytes_that_are_not_a_whole_batch_are_refused) {
    const auto entry = encode_batch_entry(full_mention(), true);
    const auto good = batch_of({entry, entry});
    EXPECT_FALSE(count_batch(""));
    EXPECT_FALSE(count_batch(R"({"id":"m1","text":"an old JSON message"})"));
    EXPECT_FALSE(count_batch("cmb2" + entry));   // another version
    // Cut anywhere inside the second entry.
    for (std::size_t cut = batch_magic.size() + entry.size() + 1; cut < good.size(); ++cut)
        EXPECT_FALSE(count_batch(good.substr(0, cut))) << cut;
    // An unknown flag, a length past the end, a varint of six bytes.
    auto flagged = entry;
    flagged[0] = static_cast<char>(flagged[0] | 0x40);
    EXPECT_FALSE(count_batch(batch_of({flagged})));
    EXPECT_FALSE(count_batch(batch_of({std::string("\x00\x7f", 2)})));
    EXPECT_FALSE(count_batch(batch_of({std::string("\x00\xff\xff\xff\xff\xff\x01", 7)})));
    // An entry without an id.
    core::mention no_id = full_mention();
    no_id.id.clear();
    EXPECT_FALSE(count_batch(batch_of({encode_batch_entry(no_id, true)})));

    // The reader stops at the damage and says so; what came before it was whole.
    const auto cut = good.substr(0, good.size() - 1);
    batch_reader r(cut);
    core::mention m;
    bool counts = false;
    EXPECT_TRUE(r.next(m, counts));
    EXPECT_FALSE(r.next(m, counts));
    EXPECT_TRUE(r.damaged());
    EXPECT_TRUE(m.id.empty());
}

TEST(mention_batch, packing_keeps_one_partition_per_message_in_order_and_splits_at_the_limit) {
    std::vector<batch_entry> entries;
    for (int i = 0; i < 30; ++i) {
        core::mention m;
        m.id = "m" + std::to_string(i);
        m.source = "ingest";
        m.text = std::string(100, 'a');
        entries.push_back({i % 3, encode_batch_entry(m, true)});
    }
    const std::size_t entry_size = entries[0].bytes.size();
    // Room for four entries a message: partition 0's ten entries go in three messages.
    const std::size_t limit = batch_magic.size() + 4 * entry_size + entry_size / 2;
    std::size_t too_large = 0;
    const auto packed = pack_batches(entries, limit, too_large);
    EXPECT_EQ(too_large, 0u);
    ASSERT_EQ(packed.size(), 9u);
    std::vector<std::string> ids_of_0;
    std::size_t mentions = 0;
    for (const auto& b : packed) {
        EXPECT_LE(b.payload.size(), limit);
        ASSERT_EQ(count_batch(b.payload), b.mentions);
        mentions += b.mentions;
        batch_reader r(b.payload);
        core::mention m;
        bool counts = false;
        while (r.next(m, counts)) {
            const int i = std::stoi(m.id.substr(1));
            EXPECT_EQ(i % 3, b.partition);
            if (b.partition == 0) ids_of_0.push_back(m.id);
        }
    }
    EXPECT_EQ(mentions, 30u);
    EXPECT_EQ(ids_of_0, (std::vector<std::string>{"m0", "m3", "m6", "m9", "m12", "m15", "m18", "m21", "m24", "m27"}));

    // An entry no message can hold is left out and counted; the rest still go.
    core::mention huge;
    huge.id = "big";
    huge.source = "ingest";
    huge.text = std::string(limit, 'x');
    entries.push_back({1, encode_batch_entry(huge, true)});
    too_large = 0;
    const auto again = pack_batches(entries, limit, too_large);
    EXPECT_EQ(too_large, 1u);
    std::size_t total = 0;
    for (const auto& b : again) total += b.mentions;
    EXPECT_EQ(total, 30u);
}

}  // namespace
}  // namespace crisisd::cluster
