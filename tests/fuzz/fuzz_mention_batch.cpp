// Fuzz target for the mention stream's batch reader (cluster/mention_batch.hpp): a partition's
// owner reads whatever bytes the stream holds, and anyone who may publish to it may put any bytes
// there. Any bytes must read without a crash; count_batch() and the reader must agree (a batch
// counted whole reads to its end undamaged, entry for entry), and what reads back must encode to
// the same bytes (nothing the reader accepts is changed on its way to the pipeline).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cluster/mention_batch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace crisisd;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto count = cluster::count_batch(bytes);
    cluster::batch_reader reader(bytes);
    core::mention m;
    bool counts = false;
    std::size_t read = 0;
    std::string again(cluster::batch_magic);
    while (reader.next(m, counts)) {
        if (m.id.empty() || m.source.empty()) std::abort();
        again += cluster::encode_batch_entry(m, counts);
        ++read;
    }
    if (count.has_value() == reader.damaged()) std::abort();
    if (count && (*count != read || again != bytes)) std::abort();
    return 0;
}
