#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace malfix::loadgen {

/// A parsed tcp://HOST:PORT or udp://HOST:PORT. HOST is a literal address (IPv6 in brackets)
/// or "localhost"; no name is resolved, so the tool never asks DNS where to send a load.
struct Url {
    bool udp = false;
    sockaddr_storage address{};
    socklen_t address_length = 0;

    std::uint16_t port() const;
    std::string text() const;  ///< tcp://127.0.0.1:4739, with the actual port
};

std::optional<Url> parse_url(std::string_view text);

/// The address a socket is bound to, as a Url of the given transport.
Url local_url(int fd, bool udp);

/// Writes every byte of the iovecs, retrying partial writes; false on an error or a closed
/// peer. The iovecs are consumed (modified) as bytes go out.
bool write_all(int fd, struct iovec* iov, int count);

}  // namespace malfix::loadgen
