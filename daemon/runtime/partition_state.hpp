#pragma once
// What a partition's owner keeps in JetStream (issue 15), so the partition's next owner carries on
// where it stopped: the partition's incidents (the snapshot form of incident/codec.hpp), its
// outbox records (state::record: key, state, attempts, started), its silences, the incident
// sequence (cluster ids, cluster/incident_ids.hpp), the last stream sequence processed, the
// mentions counted on it, and its keys' detector windows (detect::detector::save_keys, hex).
//
// One JSON document per partition, replaced whole on every write: a partition holds few
// incidents (the keys of one sixteenth of the rules' traffic), and one document written with
// compare-and-set is one atomic step, so the stream sequence, the detector windows and the
// actions they caused are never seen apart. cluster/partition_store.hpp says where it lives.
//
// Thread-safety: pure functions over values.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "incident/engine.hpp"
#include "state/actions.hpp"
#include "state/silences.hpp"

namespace crisisd::runtime {

struct partition_state {
    int partition = 0;
    std::uint64_t epoch = 0;                 // the lease epoch of the owner that wrote it
    std::uint64_t next_sequence = 1;         // the next incident's sequence (id = seq * 10000 + p)
    std::uint64_t last_stream_sequence = 0;  // every message of the partition up to it is processed
    std::uint64_t counted = 0;               // mentions counted on this partition, by every owner
    // The stream sequence from which the partition's messages hold its recent mention ids (the
    // next owner reads them back to drop a mention sent twice; runtime/cluster_intake.hpp); 0: none.
    std::uint64_t window_from = 0;
    std::vector<incident::incident> incidents;
    std::vector<state::record> records;      // the outbox records of those incidents
    std::vector<state::silence> silences;
    std::map<std::string, std::string> detectors;  // rule name -> detector bytes of the partition's keys
};

std::string encode_partition_state(const partition_state& s);

// The state encoded to fit in `limit` bytes (the servers' max_payload less header room; 0:
// unknown, no limit). When it does not fit, incidents resolved with nothing left to do (no
// pending record, no step waiting) are left out with their records, the longest resolved first:
// they matter only to the console's list until their grace ends, while a partition whose state
// cannot be written sends nothing at all. Open incidents, pending records, silences and detector
// windows are never left out, so `value` may still exceed the limit: then the partition waits.
struct fitted_state {
    std::string value;
    std::size_t left_out = 0;   // resolved incidents left out
};
fitted_state encode_partition_state_within(partition_state s, std::size_t limit);
// nullopt when `json` is not a partition state this build can read (an incident or a record that
// does not decode makes the whole state unreadable: half a partition is worse than a refusal).
std::optional<partition_state> decode_partition_state(std::string_view json);

// Whether a message at stream sequence `seq` was processed already by this partition's owners,
// given the state's last processed sequence: such a message is skipped (not counted, not
// observed), which is what makes redelivery after a takeover count every mention once.
constexpr bool already_processed(std::uint64_t last_processed, std::uint64_t seq) { return seq <= last_processed; }

}  // namespace crisisd::runtime
