// compression_bench: what permessage-deflate (RFC 7692, `compression: deflate` on a websocket
// source) saves on the recorded Jetstream and Mastodon frames in tests/data/streams. Each frame
// is compressed as a server would send it: raw DEFLATE, a sync flush per message and the final
// 00 00 FF FF dropped (RFC 7692 §7.2.1), once with the sliding window kept across messages
// (context takeover, the default both sides offer) and once with every message on its own
// (no_context_takeover). Prints payload bytes before and after; bytes, not time, so the figure
// does not depend on the machine's load.
//
//   compression_bench [DATA_DIR]     (default: the source tree's tests/data/streams)
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

class deflater {
public:
    deflater() {
        // windowBits -15: raw DEFLATE with a 32 KiB window, as permessage-deflate uses by default.
        if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw std::runtime_error("deflateInit2");
    }
    ~deflater() { deflateEnd(&z_); }
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;

    // The compressed payload of one message.
    std::size_t message(const std::string& in) {
        std::vector<unsigned char> out(in.size() + 64);
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        std::size_t produced = 0;
        do {
            if (produced == out.size()) out.resize(out.size() * 2);
            z_.next_out = out.data() + produced;
            z_.avail_out = static_cast<uInt>(out.size() - produced);
            deflate(&z_, Z_SYNC_FLUSH);
            produced = out.size() - z_.avail_out;
        } while (z_.avail_out == 0);
        return produced >= 4 ? produced - 4 : produced;  // the 00 00 FF FF tail is not sent
    }

private:
    z_stream z_{};
};

std::vector<std::string> frames_of(const fs::path& dir) {
    std::vector<std::string> frames;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".jsonl"))
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) frames.push_back(line);
    }
    return frames;
}

void report(const char* name, const std::vector<std::string>& frames) {
    std::size_t raw = 0, shared = 0, alone = 0;
    deflater context;
    for (const auto& f : frames) {
        raw += f.size();
        shared += context.message(f);
        deflater fresh;
        alone += fresh.message(f);
    }
    auto pct = [&](std::size_t n) { return raw ? 100.0 * static_cast<double>(n) / static_cast<double>(raw) : 0.0; };
    std::printf("%-10s %3zu frames  %7zu bytes  context takeover %7zu (%5.1f%%)  no context takeover %7zu (%5.1f%%)\n",
                name, frames.size(), raw, shared, pct(shared), alone, pct(alone));
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::path(CRISISD_TEST_DATA) / "streams";
    try {
        auto jetstream = frames_of(dir / "jetstream");
        auto mastodon = frames_of(dir / "mastodon");
        std::vector<std::string> both = jetstream;
        both.insert(both.end(), mastodon.begin(), mastodon.end());
        std::printf("permessage-deflate on the recorded frames of %s (payload bytes; %% of uncompressed)\n",
                    dir.string().c_str());
        report("jetstream", jetstream);
        report("mastodon", mastodon);
        report("all", both);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "compression_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
