// The tokens file: names, roles and SHA-256 hashes; anything malformed refuses the whole file.
#include "admin/tokens.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace crisisd::admin;

namespace {
const std::string hash_of_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
}

TEST(admin_tokens, sha256_is_the_standard_one) { EXPECT_EQ(to_hex(sha256("abc")), hash_of_abc); }

TEST(admin_tokens, parses_names_roles_and_hashes) {
    auto f = parse_tokens("tokens:\n  - {name: \"Anna Berger\", role: approver, sha256: \"" + hash_of_abc +
                              "\"}\n  - {name: Ops, role: viewer, sha256: \"" + std::string(64, 'A') + "\"}\n",
                          "t.yaml");
    ASSERT_EQ(f.state, tokens_file::status::loaded) << (f.errors.empty() ? "" : f.errors.front());
    ASSERT_EQ(f.tokens.size(), 2u);
    EXPECT_EQ(f.tokens[0].name, "Anna Berger");
    EXPECT_EQ(f.tokens[0].granted, role::approver);
    EXPECT_EQ(f.tokens[0].digest, sha256("abc"));
    EXPECT_EQ(f.tokens[1].granted, role::viewer);
    EXPECT_EQ(parse_tokens("tokens: []\n", "t.yaml").state, tokens_file::status::loaded);
}

TEST(admin_tokens, refuses_the_whole_file_for_one_bad_line) {
    auto f = parse_tokens("tokens:\n  - {name: A, role: admin, sha256: \"" + hash_of_abc +
                              "\"}\n  - {name: B, role: viewer, sha256: \"abc\"}\n",
                          "t.yaml");
    EXPECT_EQ(f.state, tokens_file::status::invalid);
    EXPECT_TRUE(f.tokens.empty());
    ASSERT_EQ(f.errors.size(), 1u);
    EXPECT_EQ(f.errors[0], "t.yaml:3:37: error: 'sha256' must be 64 hex digits, the SHA-256 of the token (got 3 characters)");

    for (const std::string& bad : std::vector<std::string>{"", "ops-token\n", "tokens: {}\n", "tokens:\n  - {name: A, role: root, sha256: \"" + hash_of_abc + "\"}\n",
                            "tokens:\n  - {name: A, role: admin}\n",
                            "tokens:\n  - {name: A, role: admin, sha256: \"" + hash_of_abc + "\", token: x}\n",
                            "tokens:\n  - {name: A, role: admin, sha256: \"" + std::string(63, 'a') + "g\"}\n",
                            "tokens:\n  - {name: A, role: admin, sha256: \"" + hash_of_abc + "\"}\n  - {name: B, role: viewer, sha256: \"" +
                                hash_of_abc + "\"}\n",
                            "tokens: [\n"})
        EXPECT_EQ(parse_tokens(bad, "t.yaml").state, tokens_file::status::invalid) << bad;
}

TEST(admin_tokens, a_missing_file_is_missing_not_invalid) {
    EXPECT_EQ(load_tokens("/nonexistent/crisisd-tokens.yaml").state, tokens_file::status::missing);
}

TEST(admin_tokens, new_tokens_are_long_random_and_url_safe) {
    auto a = new_token(), b = new_token();
    EXPECT_EQ(a.size(), 43u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
    EXPECT_GE(a.size(), min_token_length);
}

TEST(admin_tokens, roles_grow_by_inclusion) {
    EXPECT_TRUE(allows(role::admin, role::approver));
    EXPECT_TRUE(allows(role::approver, role::responder));
    EXPECT_FALSE(allows(role::responder, role::approver));
    EXPECT_FALSE(allows(role::viewer, role::responder));
    EXPECT_EQ(parse_role("responder"), role::responder);
    EXPECT_FALSE(parse_role("root"));
}

// `ctl token add` prints this line: the file's own parser must read back what it says.
TEST(admin_tokens, the_printed_line_is_one_the_file_accepts) {
    const std::string token = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const auto line = token_file_line("Anna \"On call\" \\ Berger", role::approver, token);
    EXPECT_EQ(line, "  - {name: \"Anna \\\"On call\\\" \\\\ Berger\", role: approver, sha256: \"" +
                        to_hex(sha256(token)) + "\"}");
    const auto file = parse_tokens("tokens:\n" + line + "\n", "tokens.yaml");
    ASSERT_EQ(file.tokens.size(), 1u) << (file.errors.empty() ? "" : file.errors[0]);
    EXPECT_EQ(file.tokens[0].name, "Anna \"On call\" \\ Berger");
    EXPECT_EQ(file.tokens[0].granted, role::approver);
}

TEST(admin_tokens, names_are_short_and_printable) {
    EXPECT_TRUE(valid_token_name("Anna Berger"));
    EXPECT_FALSE(valid_token_name(""));
    EXPECT_FALSE(valid_token_name(std::string(65, 'a')));
    EXPECT_FALSE(valid_token_name("tab\there"));
}
