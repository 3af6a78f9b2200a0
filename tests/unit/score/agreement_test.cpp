// Compares crisisd's English scorer with the reference JavaScript port of VADER
// (npm vader-sentiment 1.1.3, run with node) on the VADER tweet development texts plus our own
// edge cases.
//
// Why the agreement is ~89% and not 99%: vader-sentiment 1.1.3 ports an older VADER than the
// Python 3.3.2 that crisisd follows (and the JS port is pre-emoji). On this fixture every
// difference we inspected comes from one of these version differences, not from the arithmetic:
//  - tokenising: the JS port drops one-character tokens ("a", "I") and strips punctuation only
//    when token = word + one mark from a fixed list, so "good!!!!" and "(good" stay unknown there;
//    3.3.2 keeps every token and strips all leading/trailing punctuation. Window positions of
//    negators and boosters shift accordingly.
//  - negation: the JS port compares negators case-sensitively ("Not good" is not negated) and has
//    no "no" rule ("no good" is negated in 3.3.2) and no "without doubt" exception; "never so X"
//    is x1.5 there, x1.25 in 3.3.2.
//  - "but": the JS port only sees "but"/"BUT", not "But".
//  - data: booster list of 2016 (no "total", "major", "utter", "kind of" ...), idioms of 2016
//    ("cut the mustard", "hand to mouth" active; no "bus stop", "to die for", "broken heart"),
//    lexicon without "heart"/"hearts"/"flawed" and with badass -0.6.
//  - crisisd's own additions: @handles and URLs are ignored, elongated words ("sooo",
//    "Nooooo") are looked up shortened, emoji variation selectors are dropped.
// Examples (JS vs crisisd): "The service is good!!!!!!" 0 vs 0.62 (token "good!!!!!!" unknown in
// JS); "Not happy, not sad" 0.74 vs -0.63 (case-sensitive "Not"); "Without a doubt the best
// service" 0.40 vs 0.74 (the without-doubt exception).
// The assertion below therefore guards the measured level, and the test prints the first
// disagreements so a change in the shared arithmetic (lexicon parsing, boosters, caps,
// punctuation, normalisation) shows up as a drop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
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
    std::ostringstream report;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const double ours = scorer.score(texts[i], "en").compound;
        // The JS port rounds compound to 4 decimals.
        if (std::fabs(ours - reference[i]) <= 0.001) {
            ++agree;
        } else if (shown++ < 15) {
            report << "  js " << reference[i] << " crisisd " << ours << "  " << texts[i] << '\n';
        }
    }
    const double share = static_cast<double>(agree) / static_cast<double>(texts.size());
    std::printf("agreement |dcompound| <= 0.001: %zu / %zu = %.4f\n%s", agree, texts.size(), share,
                report.str().c_str());
    EXPECT_GE(share, 0.88);
    // The edge cases avoid the version differences listed above and must all agree.
    std::size_t edge_agree = 0;
    for (std::size_t i = texts.size() - edge.size(); i < texts.size(); ++i) {
        edge_agree += std::fabs(scorer.score(texts[i], "en").compound - reference[i]) <= 0.001;
    }
    EXPECT_EQ(edge_agree, edge.size());
}

}  // namespace
