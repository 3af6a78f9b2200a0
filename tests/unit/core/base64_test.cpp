#include <gtest/gtest.h>

#include "core/base64.hpp"

using crisisd::core::from_base64;
using crisisd::core::to_base64;

TEST(base64, encodes_the_rfc_4648_test_vectors) {
    EXPECT_EQ(to_base64(""), "");
    EXPECT_EQ(to_base64("f"), "Zg==");
    EXPECT_EQ(to_base64("fo"), "Zm8=");
    EXPECT_EQ(to_base64("foo"), "Zm9v");
    EXPECT_EQ(to_base64("foobar"), "Zm9vYmFy");
}

TEST(base64, round_trips_binary_and_refuses_what_is_not_base64) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    EXPECT_EQ(from_base64(to_base64(all)), all);
    EXPECT_EQ(from_base64("Zm9vYg=="), "foob");
    EXPECT_FALSE(from_base64("Zm9"));       // not a multiple of four
    EXPECT_FALSE(from_base64("Zm9v!A=="));  // outside the alphabet
    EXPECT_FALSE(from_base64("Z=9v"));      // padding in the middle
    EXPECT_FALSE(from_base64("Zm8=Zm8="));  // padding before the last block
    EXPECT_FALSE(from_base64(" Zm9v"));     // white space (OpenSSL would skip it)
    EXPECT_FALSE(from_base64("Zm9v\n"));
    EXPECT_FALSE(from_base64("Z==="));      // more padding than a block can have
    EXPECT_EQ(from_base64(""), "");
}
