// Compares crisisd's English scorer with the reference implementation named by the product
// requirements, the JavaScript port of VADER (npm vader-sentiment 1.1.3, run with node), on the
// VADER tweet development texts plus our own edge cases, and requires |dcompound| <= 0.001 on at
// least 99% of them. The port rounds compound to 4 decimals, hence the tolerance.
//
// crisisd follows the port rule for rule, quirks included (see score/README.md): one-character
// tokens dropped, its PUNC_LIST punctuation rule, case-sensitive negators/"never so"/idioms,
// "but" then "BUT", no "no" rule, its 2016 booster/idiom lists and lexicon. What remains are
// crisisd's deliberate additions, of which only one occurs in the tweet fixture:
//  - elongated words ("Nooooo", "yaaay", "SOOOO", "LMAOOOO") unknown as written are looked up
//    with runs shortened to two, then one letter; the port leaves them unrated. This accounts for
//    every disagreement on the fixture (17 of 2,106 texts; accuracy improves with it: Pearson r
//    0.8851 vs 0.8838 without) - e.g. "@anonymous Woooooooo! :3" js 0.5562, crisisd 0.7712.
//  - emoji are replaced by their CLDR description words (the port is pre-emoji); the fixture has
//    none that change a score.
//  - "n’t" with a typographic apostrophe negates like "n't".
// The edge cases avoid elongations and emoji and must all agree.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "score/scorer.hpp"

namespace {

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

TEST(score_agreement, english_matches_reference_javascript_port) {
    const std::string node = CRISISD_NODE;
    if (node.empty()) GTEST_SKIP() << "node is not installed; the agreement test needs it";
    const std::filesystem::path tools = CRISISD_TEST_TOOLS;
    ASSERT_TRUE(std::filesystem::exists(tools / "node_modules" / "vader-sentiment"))
        << "reference port missing: run `npm ci --prefix tests/tools`";

    std::vector<std::string> texts = read_lines(std::string(CRISISD_TEST_DATA) + "/sentiment/vader_tweets_dev_texts.txt");
    const auto edge = read_lines(std::string(CRISISD_TEST_DATA) + "/sentiment/agreement_edge_cases.txt");
    texts.insert(texts.end(), edge.begin(), edge.end());
    ASSERT_GE(texts.size(), 2000u);

    const auto input = std::filesystem::temp_directory_path() / ("crisisd-agreement-" + std::to_string(::getpid()) + ".txt");
    {
        std::ofstream out(input);
        for (const auto& t : texts) out << t << '\n';
    }
    const std::string command = node + " " + (tools / "vader-reference.js").string() + " " + input.string();
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::vector<double> reference;
    char buffer[64];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) reference.push_back(std::strtod(buffer, nullptr));
    const int status = ::pclose(pipe);
    std::filesystem::remove(input);
    ASSERT_EQ(status, 0) << command;
    ASSERT_EQ(reference.size(), texts.size());

    const crisisd::score::scorer scorer;
    std::size_t agree = 0;
    std::size_t shown = 0;
    // CRISISD_AGREEMENT_SHOW=N lists up to N disagreements (default 15).
    const char* show = std::getenv("CRISISD_AGREEMENT_SHOW");
    const std::size_t max_shown = show != nullptr ? std::strtoul(show, nullptr, 10) : 15;
    std::ostringstream report;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const double ours = scorer.score(texts[i], "en").compound;
        // The JS port rounds compound to 4 decimals.
        if (std::fabs(ours - reference[i]) <= 0.001) {
            ++agree;
        } else if (shown++ < max_shown) {
            report << "  js " << reference[i] << " crisisd " << ours << "  " << texts[i] << '\n';
        }
    }
    const double share = static_cast<double>(agree) / static_cast<double>(texts.size());
    std::printf("agreement |dcompound| <= 0.001: %zu / %zu = %.4f\n%s", agree, texts.size(), share,
                report.str().c_str());
    EXPECT_GE(share, 0.99);
    // The edge cases avoid the version differences listed above and must all agree.
    std::size_t edge_agree = 0;
    for (std::size_t i = texts.size() - edge.size(); i < texts.size(); ++i) {
        edge_agree += std::fabs(scorer.score(texts[i], "en").compound - reference[i]) <= 0.001;
    }
    EXPECT_EQ(edge_agree, edge.size());
}

}  // namespace
