#pragma once
// Tests that verify a certificate by host name connect to "localhost". A minimal root (a
// debootstrap chroot without /etc/hosts) cannot resolve that name at all; such a machine
// skips these tests with a reason instead of failing them for something crisisd does not do.
#include <netdb.h>

#include <gtest/gtest.h>

namespace crisisd::testing {

inline bool localhost_resolves() {
    addrinfo* result = nullptr;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    bool ok = ::getaddrinfo("localhost", nullptr, &hints, &result) == 0;
    if (result) ::freeaddrinfo(result);
    return ok;
}

}  // namespace crisisd::testing

#define CRISISD_SKIP_UNLESS_LOCALHOST_RESOLVES()                                              \
    do {                                                                                     \
        if (!::crisisd::testing::localhost_resolves())                                       \
            GTEST_SKIP() << "the name localhost does not resolve here (no /etc/hosts entry)"; \
    } while (0)
