#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::intel {

enum class IndicatorKind : std::uint8_t { kIp, kIpPort, kCidr, kDomain };

/// One trail with what a Maltrail user reads beside it. Owned by its Snapshot; pointers to it
/// stay valid as long as the Snapshot does. The texts are views into storage the Snapshot owns
/// (info and reference are stored once per file, not once per trail): with about 1.5 million
/// static trails, std::string members would cost over 100 MB more.
struct Indicator {
    std::string_view trail;      ///< normalised text, e.g. "62.204.41.166:27688", "evil.com"
    std::string_view info;       ///< e.g. "zeus (malware)", "mass scanner"
    std::string_view reference;  ///< e.g. "(static)", "(custom)"
    std::uint16_t feed = 0;      ///< index into Snapshot::feeds()
    IndicatorKind kind = IndicatorKind::kIp;
};

/// A domain lookup result: the indicator, and how many leading bytes of the normalised name
/// (not counting the dot before the trail) lie before the matched suffix. 0 means exact match.
struct DomainMatch {
    const Indicator* indicator = nullptr;
    std::size_t prefix_length = 0;
    explicit operator bool() const { return indicator != nullptr; }
};

/// What one feed contributed, for logs, stats and metrics.
struct FeedInfo {
    std::string name;  ///< path or label given on the command line
    std::size_t indicators = 0;
    std::size_t bad_lines = 0;
    std::size_t skipped_lines = 0;  ///< valid trails of kinds flows cannot match (URLs, regex)
    std::size_t duplicates = 0;     ///< trails already given earlier (the first one is kept)
    std::size_t whitelisted = 0;    ///< trails dropped because the whitelist covers them
};

/// Normalises a DNS name the way trails are normalised (REFERENCE §5): lower case, no
/// trailing or leading dots, no leading "www.". Writes into out (capacity cap) and returns
/// the length, or 0 when the name is empty or does not fit.
std::size_t normalize_domain(std::string_view raw, char* out, std::size_t cap);

/// The immutable set of indicators that matchers read.
///
/// Lifetime: built aside by SnapshotBuilder, published through SnapshotHolder, never changed
/// afterwards. Readers keep it alive with a shared_ptr for as long as they hold any pointer
/// into it (a matcher for one batch, the serializer until that batch is encoded); the old
/// snapshot is freed when the last such reader lets go. Whitelisted addresses and names
/// never match (the whitelist is folded in at build time).
class Snapshot {
public:
    virtual ~Snapshot() = default;

    /// Exact address trail, else the most specific CIDR trail containing the address.
    virtual const Indicator* find_ipv4(std::uint32_t host_order) const = 0;
    virtual const Indicator* find_ipv6(const std::array<std::uint8_t, 16>& addr) const = 0;
    virtual const Indicator* find_ipv4_port(std::uint32_t host_order, std::uint16_t port) const = 0;
    virtual const Indicator* find_ipv6_port(const std::array<std::uint8_t, 16>& addr,
                                            std::uint16_t port) const = 0;
    /// name must already be normalised. Walks from the full name to its parent suffixes and
    /// returns the most specific trail, unless the name or a parent is whitelisted.
    virtual DomainMatch find_domain(std::string_view name) const = 0;

    virtual std::size_t size() const = 0;
    virtual const std::vector<FeedInfo>& feeds() const = 0;
};

/// Where matchers get the current snapshot. publish() swaps it atomically (RCU style);
/// current() is cheap enough to call once per batch, never per record.
class SnapshotHolder {
public:
    std::shared_ptr<const Snapshot> current() const { return current_.load(); }
    void publish(std::shared_ptr<const Snapshot> next) { current_.store(std::move(next)); }

private:
    std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace malfix::intel
