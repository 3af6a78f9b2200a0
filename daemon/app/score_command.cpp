// `crisisd score`: JSONL mentions (or plain text lines with --text) on stdin, one JSON line per
// input on stdout in the same order. A line that cannot be read gets an error object in its
// place, so output line N always answers input line N.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>

#include "app/cli.hpp"
#include "core/json_writer.hpp"
#include "parse/generic.hpp"
#include "score/scorer.hpp"
#include "text/normalize.hpp"

namespace crisisd::app {
namespace {

// Writes `v` exactly as std::to_chars(fixed, 4) does, several times faster: scores lie in [-1, 1],
// so v * 10^4 rounded to an integer gives the digits unless it sits next to a .5 tie, where the
// library (which rounds the exact binary value) decides. Profiling `crisisd score` showed the
// general-purpose conversion at about a tenth of all instructions. Returns the end of the digits;
// `p` needs room for 32 characters.
char* put_fixed4(char* p, double v) {
    const double scaled = v * 10000.0;
    const double magnitude = std::fabs(scaled);
    const double fraction = magnitude - std::trunc(magnitude);
    if (!(std::fabs(v) <= 1.0) || std::fabs(fraction - 0.5) < 1e-6) {
        return std::to_chars(p, p + 32, v, std::chars_format::fixed, 4).ptr;
    }
    // Away from a tie, adding 0.5 and truncating is llround(|scaled|): |scaled| <= 10^4, so the
    // sum's rounding error (< 2^-38) cannot carry it across an integer.
    const auto n = static_cast<unsigned>(magnitude + 0.5);
    if (std::signbit(v)) *p++ = '-';  // to_chars keeps the sign of -0.00001 ("-0.0000")
    const unsigned decimals = n % 10000;
    p[0] = static_cast<char>('0' + n / 10000);
    p[1] = '.';
    p[2] = static_cast<char>('0' + decimals / 1000);
    p[3] = static_cast<char>('0' + decimals / 100 % 10);
    p[4] = static_cast<char>('0' + decimals / 10 % 10);
    p[5] = static_cast<char>('0' + decimals % 10);
    return p + 6;
}

// The four scores, formatted on the stack and appended at once. The whole line is written by
// hand, not with Boost.JSON: per mention that is a quarter fewer instructions, and fixed decimals
// (figures in core/json_writer.hpp).
void append_scores(std::string& out, const score::sentiment& s) {
    char buf[4 * (12 + 32)];
    char* p = buf;
    const auto field = [&p](std::string_view name, double v) {
        std::memcpy(p, name.data(), name.size());
        p = put_fixed4(p + name.size(), v);
    };
    field(",\"compound\":", s.compound);
    field(",\"pos\":", s.pos);
    field(",\"neu\":", s.neu);
    field(",\"neg\":", s.neg);
    out.append(buf, static_cast<std::size_t>(p - buf));
}

// Reads stdin in large blocks and hands out complete lines; the last line may lack '\n'.
// One read(2) per refill, taking what is there: from a pipe that is at most the pipe's 64 KiB,
// and those lines are scored while the writer refills the pipe on another core. (fread() waited
// until the whole 1 MiB block was filled, so `crisisd score` blocked on every 64 KiB chunk of a
// pipe - thousands of sleeps per million mentions, a fifth of the wall time.)
// `before_read` runs before each read(2), which may block: the caller writes out the results
// it holds, so a slow producer (`tail -F … | crisisd score`) sees each line's score at once
// instead of when 64 KiB of output have piled up.
class line_reader {
public:
    line_reader(int fd, std::function<void()> before_read) : fd_(fd), before_read_(std::move(before_read)) {
        buf_.resize(1 << 20);
    }
    bool next(std::string_view& line) {
        for (;;) {
            auto nl = static_cast<const char*>(std::memchr(buf_.data() + begin_, '\n', end_ - begin_));
            if (nl) {
                line = std::string_view(buf_.data() + begin_, static_cast<std::size_t>(nl - (buf_.data() + begin_)));
                begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
                return true;
            }
            if (eof_) {
                if (begin_ == end_) return false;
                line = std::string_view(buf_.data() + begin_, end_ - begin_);
                begin_ = end_;
                return true;
            }
            if (begin_ > 0) {
                std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
                end_ -= begin_;
                begin_ = 0;
            }
            if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
            before_read_();
            ssize_t n = 0;
            do {
                n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
            } while (n < 0 && errno == EINTR);
            if (n <= 0) {
                eof_ = true;  // end of input, or a read error (as fread() treated it)
            } else {
                end_ += static_cast<std::size_t>(n);
            }
        }
    }

private:
    int fd_;
    std::function<void()> before_read_;
    std::string buf_;
    std::size_t begin_ = 0, end_ = 0;
    bool eof_ = false;
};

}  // namespace

int score_command(const std::vector<std::string>& args) {
    options o{args};
    if (auto bad = o.unknown({"--lang"}, {"--text"}); !bad.empty()) {
        std::fprintf(stderr, "crisisd score: unknown argument '%s'\n", bad.front().c_str());
        return exit_usage;
    }
    bool plain = o.flag("--text");
    std::string forced_lang = o.value("--lang").value_or("");

    score::scorer scorer;
    parse::generic_parser parser;
    core::mention m;
    std::string out, text;
    out.reserve(1 << 17);
    line_reader reader(STDIN_FILENO, [&out] {
        if (out.empty()) return;
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
        out.clear();
    });
    std::string_view line;
    std::uint64_t line_no = 0;
    while (reader.next(line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (plain) {
            std::string_view lang = forced_lang.empty() ? text::guess_language(line) : std::string_view(forced_lang);
            auto s = scorer.score(line, lang);
            out += "{\"line\":";
            out += std::to_string(line_no);
            out += ",\"lang\":";
            core::append_json_string(out, lang);
            append_scores(out, s);
            out += "}\n";
        } else if (auto reject = parser.parse(line, m)) {
            out += "{\"line\":";
            out += std::to_string(line_no);
            out += ",\"id\":null,\"error\":";
            core::append_json_string(out, parse::to_string(*reject));
            out += "}\n";
        } else {
            std::string_view body = m.text;
            if (m.html) {
                text.clear();
                text::strip_html(m.text, text);
                body = text;
            }
            std::string_view lang = !forced_lang.empty() ? std::string_view(forced_lang)
                                    : !m.lang.empty()    ? std::string_view(m.lang)
                                                         : text::guess_language(body);
            auto s = scorer.score(body, lang);
            out += "{\"id\":";
            core::append_json_string(out, m.id);
            out += ",\"lang\":";
            core::append_json_string(out, lang);
            append_scores(out, s);
            out += "}\n";
        }
        if (out.size() >= (1 << 16)) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return exit_ok;
}

}  // namespace crisisd::app
