#pragma once
// The bytes of one mention-stream message (issue 15): every mention one front has for one
// partition at the moment it publishes, packed into one message, so JetStream stores and
// replicates a few large messages instead of one small R3 message per mention (the servers'
// per-message work was ~80 % of the cluster's CPU).
//
// Format (version 1), little-endian, no padding:
//   batch   := "cmb1" entry*
//   entry   := flags:u8 [created_us:i64 when flags & 8] string{7}   (id, source, text, network,
//              author, lang, url, in that order)
//   string  := length:varint (LEB128, at most 5 bytes, at most what is left) bytes
//   flags   := 1 counts (the partition it goes to counts it), 2 html, 4 author vouched,
//              8 created_us present; other bits must be 0
// An entry without an id or a source is damage, as is anything past the last whole entry. Why
// binary and not JSON: the owner reads every mention of its partitions, and a length-prefixed
// walk costs a fraction of a JSON parse; the reader is fuzzed (tests/fuzz/fuzz_mention_batch),
// since whoever may publish to the stream may put any bytes there.
//
// pack_batches() cuts the entries of one publish round into messages, one partition each and none
// over the byte limit the servers take (max_payload less room for the headers).
//
// Thread-safety: pure functions over values; a batch_reader is used by one thread at a time.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mention.hpp"

namespace crisisd::cluster {

inline constexpr std::string_view batch_magic = "cmb1";

// One mention's entry (without the batch's magic), counted on its partition or not.
std::string encode_batch_entry(const core::mention& m, bool counts);
// The same entry with its counting flag set to `counts` (the front encodes a mention once and
// sends it to several partitions, counted on one). `entry` must come from encode_batch_entry.
void set_entry_counts(std::string& entry, bool counts);

// Reads a batch entry by entry. A damaged batch stops at the damage: next() is false and damaged()
// true, so a caller that must not act on half a message checks the whole with count_batch() first.
class batch_reader {
public:
    explicit batch_reader(std::string_view bytes);
    // The next entry into `m` (cleared first) and `counts`; false at the end or at damage.
    bool next(core::mention& m, bool& counts);
    bool damaged() const noexcept { return damaged_; }

private:
    bool read_string(std::string& out);
    std::string_view rest_;
    bool damaged_ = false;
};

// How many entries `bytes` holds; nullopt when it is not a whole version-1 batch.
std::optional<std::size_t> count_batch(std::string_view bytes);

// One entry waiting at a front: its partition and its bytes (encode_batch_entry).
struct batch_entry {
    int partition = 0;
    std::string bytes;
};

// One message to publish: a partition's entries, in the order they came.
struct packed_batch {
    int partition = 0;
    std::string payload;
    std::size_t mentions = 0;
};

// Packs `entries` into messages of at most `max_bytes` each, one partition per message, keeping
// each partition's order. An entry too large for any message (longer than max_bytes less the
// magic) is left out and counted in `too_large`.
std::vector<packed_batch> pack_batches(const std::vector<batch_entry>& entries, std::size_t max_bytes,
                                       std::size_t& too_large);

}  // namespace crisisd::cluster
