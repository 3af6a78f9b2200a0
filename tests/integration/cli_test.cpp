// The command-line contracts of DESIGN.md, run against the real binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "child_process.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using crisisd::testing::child_process;
using crisisd::testing::read_file;
using crisisd::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// check-config on a golden file in tests/data/config/bad, run from that folder so the file
// names in the messages are relative: exit 78 and exactly the expected lines on stderr.
void expect_check_config_golden(const std::string& name) {
    auto dir = fs::path(CRISISD_TEST_DATA) / "config";
    auto cwd = fs::current_path();
    fs::current_path(dir);
    child_process p({CRISISD_BINARY, "check-config", "--config", "bad/" + name + ".yaml"});
    auto code = p.wait_exit(20s);
    fs::current_path(cwd);
    EXPECT_EQ(code, 78) << name;
    EXPECT_EQ(p.stderr_text(), read_file(dir / ("bad/" + name + ".expected"))) << name;
    EXPECT_EQ(p.stdout_text(), "") << name;
}

}  // namespace

TEST(cli, check_config_reports_every_problem_with_file_line_col_and_exit_78) {
    // Golden file: the config module's own tests check each message; here the binary's contract.
    expect_check_config_golden("many_errors");
}

TEST(cli, check_config_refuses_a_statement_too_long_for_its_channel) { expect_check_config_golden("statement_too_long"); }

TEST(cli, check_config_refuses_status_url_placeholders_without_a_status_url) {
    expect_check_config_golden("status_url");
}

TEST(cli, check_config_refuses_wrong_statement_times) {
    ::unsetenv("TZDIR");  // the messages name /usr/share/zoneinfo
    expect_check_config_golden("statement_times");
}

// An admin listener beyond loopback needs tokens and TLS (or a reverse proxy that does TLS).
TEST(cli, check_config_refuses_an_exposed_admin_listener) { expect_check_config_golden("admin_exposed"); }

// ${file:} and config files are read only when they are regular files of a bounded size: a
// device never ends (/dev/zero took 2.1 GB and printed OK with a cut value), a FIFO blocks for ever
// (check-config hung; a reload would have blocked the event loop). Each is a config error, at once.
TEST(cli, check_config_refuses_secret_files_that_never_end_block_or_are_huge) {
    const temp_dir tmp("crisisd-cli-secrets");
    const fs::path& dir = tmp.path;
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    std::ofstream(dir / "huge") << std::string(100000, 'x');
    const std::pair<std::string, std::string> cases[] = {
        {"/dev/zero", "it is not a regular file"},
        {(dir / "fifo").string(), "it is not a regular file"},
        {(dir / "huge").string(), "it is larger than 65536 bytes"},
    };
    for (const auto& [secret, why] : cases) {
        std::ofstream(dir / "crisisd.yaml") << "sources:\n"
                                               "  - { name: ingest, type: http, listen: \"127.0.0.1:0\", token: \"${file:"
                                            << secret << "}\" }\n";
        child_process p({CRISISD_BINARY, "check-config", "--config", (dir / "crisisd.yaml").string()});
        EXPECT_EQ(p.wait_exit(20s), 78) << secret << ": " << p.stderr_text();
        EXPECT_NE(p.stderr_text().find("cannot read secret file '" + secret + "': " + why), std::string::npos)
            << p.stderr_text();
        EXPECT_EQ(p.stdout_text(), "") << secret;
    }
}

// A 10 MB statement passed check-config and was copied into every module's settings on each
// reload; an alias bomb of a few lines expanded into billions of values when walked.
TEST(cli, check_config_refuses_huge_values_and_alias_bombs) {
    const temp_dir tmp("crisisd-cli-huge");
    const fs::path& dir = tmp.path;
    std::ofstream(dir / "huge.yaml") << "statements:\n  - name: holding\n    text: \"" << std::string(100000, 'x')
                                     << "\"\n";
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int j = 0; j < 10; ++j) bomb += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
        bomb += "]\n";
    }
    std::ofstream(dir / "bomb.yaml") << bomb;
    const std::pair<std::string, std::string> cases[] = {
        {"huge.yaml", "huge.yaml:3:11: error: a value of 100000 bytes; at most 65536 bytes are allowed"},
        {"bomb.yaml", "bomb.yaml:1:1: error: the config is too large when its aliases are expanded"},
    };
    for (const auto& [file, expected] : cases) {
        child_process p({CRISISD_BINARY, "check-config", "--config", (dir / file).string()});
        EXPECT_EQ(p.wait_exit(20s), 78) << file << ": " << p.stderr_text();
        EXPECT_NE(p.stderr_text().find(expected), std::string::npos) << p.stderr_text();
        EXPECT_EQ(p.stdout_text(), "") << file;
    }
}

// Issue 15: `cluster:` is a mode of its own now (no preview to ask for). check-config accepts it
// without reaching NATS; run needs NATS and says so when none answers, never starting as a lone
// process that would page and post beside its peers. It exits 75, not 78: NATS out of reach (or a
// cluster that has just formed and cannot place a bucket yet) passes, and systemd must try again.
TEST(cli, a_cluster_section_is_checked_offline_and_run_needs_nats) {
    auto dir = fs::temp_directory_path() / ("crisisd-cli-cluster-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    // Port 1: nothing listens there.
    std::ofstream(dir / "crisisd.yaml") << "storage: { path: \"" << (dir / "state.db").string()
                                        << "\" }\ncluster:\n  name: replica-1\n  nats: { servers: [\"nats://127.0.0.1:1\"] }\n";
    child_process check({CRISISD_BINARY, "check-config", "--config", (dir / "crisisd.yaml").string()});
    EXPECT_EQ(check.wait_exit(20s), 0) << check.stderr_text();
    EXPECT_EQ(check.stdout_text(), "OK\n");
    child_process run({CRISISD_BINARY, "run", "--config", (dir / "crisisd.yaml").string()});
    EXPECT_EQ(run.wait_exit(20s), 75) << run.stderr_text();
    EXPECT_NE(run.stderr_text().find("cluster: connect"), std::string::npos) << run.stderr_text();
    fs::remove_all(dir);
}

TEST(cli, check_config_says_ok_for_a_good_config) {
    child_process p({CRISISD_BINARY, "check-config", "--config",
                     (fs::path(CRISISD_TEST_DATA) / "config/good/main.yaml").string()});
    EXPECT_EQ(p.wait_exit(20s), 0) << p.stderr_text();
    EXPECT_EQ(p.stdout_text(), "OK\n");
}

TEST(cli, demo_headless_plays_the_story_and_writes_the_report) {
    auto dir = fs::temp_directory_path() / ("crisisd-demo-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    auto report = dir / "report.json";
    child_process p({CRISISD_BINARY, "demo", "--headless", "--dir", dir.string(), "--report", report.string()});
    ASSERT_EQ(p.wait_exit(60s), 0) << p.stdout_text() << p.stderr_text();
    auto out = p.stdout_text();
    EXPECT_NE(out.find("INCIDENT #1 OPENED"), std::string::npos) << out;
    EXPECT_NE(out.find("posted to brand-account"), std::string::npos) << out;
    EXPECT_NE(out.find("INCIDENT #1 RESOLVED"), std::string::npos) << out;
    // The story is heard where it is told: on Mastodon's stream, the Facebook Page's webhook
    // (after Meta's handshake), X's filtered stream (after the rule sync) and the forum's feed
    // (whose older posts are history), each post on the timeline with its source.
    EXPECT_NE(out.find("page: crisisd answered Meta's subscription handshake"), std::string::npos) << out;
    EXPECT_NE(out.find("x: crisisd added the stream rule \"liwest OR @liwest\""), std::string::npos) << out;
    EXPECT_NE(out.find("its 2 older post(s) are history"), std::string::npos) << out;
    for (const char* post : {"· mastodon @karin@mastodon.at: Coffee first", "· page     Uwe Berger (",
                             "· x        @clara_linz: Schon wieder Internetstörung bei Liwest",
                             "· forum    uwe_ooe: Hat jemand Erfahrung mit dem Liwest Glasfaser Tarif?"})
        EXPECT_NE(out.find(post), std::string::npos) << post << "\n" << out;
    EXPECT_NE(out.find("97 mentions processed (posts per source: forum 8, mastodon 35, page 26, x 28)"), std::string::npos)
        << out;
    auto json = read_file(report);
    EXPECT_NE(json.find(R"("rule":"isp-outage")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("status":"sent")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("mentions_processed":97)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("source":")"), std::string::npos) << "evidence names its sources: " << json;
    auto outbox = read_file(dir / "outbox.jsonl");
    EXPECT_NE(outbox.find("Wir wissen von der Störung bei Liwest"), std::string::npos) << outbox;
    fs::remove_all(dir);
}

TEST(cli, score_answers_every_line_in_order) {
    auto dir = fs::temp_directory_path();
    auto in = dir / ("crisisd-score-" + std::to_string(::getpid()) + ".jsonl");
    std::ofstream(in) << R"({"id":"a","lang":"en","text":"I love this, great service!"})" << "\n"
                      << "not json\n"
                      << R"({"id":"b","lang":"de","text":"Totalausfall seit 3 Stunden, Frechheit!!"})" << "\n";
    child_process p({"/bin/sh", "-c", std::string(CRISISD_BINARY) + " score < " + in.string()});
    ASSERT_EQ(p.wait_exit(20s), 0) << p.stderr_text();
    auto out = p.stdout_text();
    std::istringstream lines(out);
    std::string l1, l2, l3;
    std::getline(lines, l1);
    std::getline(lines, l2);
    std::getline(lines, l3);
    EXPECT_NE(l1.find(R"("id":"a")"), std::string::npos) << out;
    EXPECT_NE(l1.find(R"("compound":0.)"), std::string::npos) << out;  // positive
    EXPECT_NE(l2.find(R"("error":"malformed_json")"), std::string::npos) << out;
    EXPECT_NE(l3.find(R"("id":"b")"), std::string::npos) << out;
    EXPECT_NE(l3.find(R"("compound":-0.)"), std::string::npos) << out;  // negative
    fs::remove(in);
}

TEST(cli, score_answers_a_slow_producer_line_by_line) {
    // `tail -F mentions.jsonl | crisisd score`: each score must come out while the input stays
    // open, not when 64 KiB of output have piled up or the input ends.
    auto fifo = fs::temp_directory_path() / ("crisisd-score-fifo-" + std::to_string(::getpid()));
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    child_process p({"/bin/sh", "-c", std::string(CRISISD_BINARY) + " score < " + fifo.string()});
    const int writer = ::open(fifo.c_str(), O_WRONLY);
    ASSERT_GE(writer, 0);
    const std::string line = R"({"id":"slow-1","lang":"en","text":"the outage is awful"})" "\n";
    ASSERT_EQ(::write(writer, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    bool answered = false;
    for (int i = 0; i < 1000 && !answered; ++i) {
        answered = p.stdout_text().find(R"("id":"slow-1")") != std::string::npos;
        if (!answered) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(answered) << "no score while the input is still open";
    ::close(writer);
    EXPECT_EQ(p.wait_exit(20s), 0) << p.stderr_text();
    fs::remove(fifo);
}

TEST(cli, unknown_command_is_a_usage_error) {
    child_process p({CRISISD_BINARY, "frobnicate"});
    EXPECT_EQ(p.wait_exit(10s), 64);
    EXPECT_NE(p.stderr_text().find("unknown command 'frobnicate'"), std::string::npos);
}
