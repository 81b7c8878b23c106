#pragma once

#include "intel/open_table.hpp"
#include "intel/snapshot.hpp"
#include "intel/trail_parser.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace malfix::intel {

/// Append-only text storage with stable addresses: string_views into it stay valid for the
/// arena's lifetime. Blocks of 1 MiB keep the allocation count and the slack small.
class TextArena {
public:
    std::string_view store(std::string_view text);
    std::size_t memory_bytes() const { return reserved_; }

private:
    std::vector<std::unique_ptr<char[]>> blocks_;
    char* next_ = nullptr;
    std::size_t left_ = 0;
    std::size_t reserved_ = 0;
};

/// Indicators in fixed-size chunks: addresses never move while the store grows, and growing
/// never needs the old and new copy at once (a vector of 1.7 million would double its peak).
class IndicatorStore {
public:
    static constexpr unsigned kChunkBits = 14;

    std::uint32_t size() const { return size_; }
    Indicator& push();
    const Indicator& operator[](std::uint32_t index) const {
        return chunks_[index >> kChunkBits][index & ((1U << kChunkBits) - 1)];
    }
    Indicator& operator[](std::uint32_t index) {
        return chunks_[index >> kChunkBits][index & ((1U << kChunkBits) - 1)];
    }
    std::size_t memory_bytes() const { return chunks_.size() * (sizeof(Indicator) << kChunkBits); }

private:
    std::vector<std::unique_ptr<Indicator[]>> chunks_;
    std::uint32_t size_ = 0;
};

/// Per prefix length hash tables of masked addresses; lookups probe only the lengths present,
/// longest first, so the first hit is the most specific network.
template <typename Key, unsigned kBits>
class PrefixTables {
public:
    std::uint32_t find(const Key& addr) const {
        const unsigned top = top16(addr);
        if ((filter_[top / 64] & (std::uint64_t{1} << (top % 64))) == 0) {
            return OpenTable<Key>::kAbsent;
        }
        for (std::uint8_t length : lengths_) {
            const std::uint32_t value = tables_[length].find(mask(addr, length));
            if (value != OpenTable<Key>::kAbsent) {
                return value;
            }
        }
        return OpenTable<Key>::kAbsent;
    }

    bool empty() const { return lengths_.empty(); }

    std::uint32_t& insert(const Key& network, std::uint8_t length, std::uint32_t value,
                          bool& inserted) {
        std::uint32_t& slot = tables_[length].insert(mask(network, length), value, inserted);
        // Mark every /16 the network touches: a lookup outside all of them probes nothing.
        const unsigned first = top16(mask(network, length));
        const unsigned span = length >= 16 ? 1U : 1U << (16 - length);
        for (unsigned top = first; top < first + span; ++top) {
            filter_[top / 64] |= std::uint64_t{1} << (top % 64);
        }
        if (inserted && tables_[length].size() == 1) {
            lengths_.push_back(length);
            std::sort(lengths_.rbegin(), lengths_.rend());
        }
        return slot;
    }

    std::size_t memory_bytes() const {
        std::size_t total = 0;
        for (const auto& table : tables_) {
            total += table.memory_bytes();
        }
        return total;
    }

    static unsigned top16(std::uint32_t addr) { return addr >> 16; }
    static unsigned top16(const V6Key& addr) { return static_cast<unsigned>(addr.hi >> 48); }

    static std::uint32_t mask(std::uint32_t addr, unsigned length) {
        return length == 0 ? 0 : addr & (0xFFFFFFFFU << (32 - length));
    }
    static V6Key mask(const V6Key& addr, unsigned length) {
        const auto keep = [](std::uint64_t word, unsigned bits) {
            return bits == 0 ? 0 : bits >= 64 ? word : word & (~std::uint64_t{0} << (64 - bits));
        };
        return {keep(addr.hi, length), keep(addr.lo, length > 64 ? length - 64 : 0)};
    }

private:
    std::array<OpenTable<Key>, kBits + 1> tables_;
    std::vector<std::uint8_t> lengths_;  // present lengths, longest first
    // One bit per leading 16 address bits that some network covers (8 KiB, stays in cache).
    std::array<std::uint64_t, 1024> filter_{};
};

V6Key to_v6_key(const std::array<std::uint8_t, 16>& addr);

/// The Snapshot that SnapshotBuilder produces: open-addressing tables per indicator kind, all
/// texts in one arena. Immutable once built.
class TrailSnapshot final : public Snapshot {
public:
    const Indicator* find_ipv4(std::uint32_t host_order) const override;
    const Indicator* find_ipv6(const std::array<std::uint8_t, 16>& addr) const override;
    const Indicator* find_ipv4_port(std::uint32_t host_order, std::uint16_t port) const override;
    const Indicator* find_ipv6_port(const std::array<std::uint8_t, 16>& addr,
                                    std::uint16_t port) const override;
    DomainMatch find_domain(std::string_view name) const override;
    std::size_t size() const override { return size_; }
    const std::vector<FeedInfo>& feeds() const override { return feeds_; }

    /// Bytes held by tables, indicators and texts, for the start-up log.
    std::size_t memory_bytes() const;

private:
    friend class SnapshotBuilder;

    static constexpr std::uint32_t kAbsent = OpenTable<std::uint32_t>::kAbsent;
    // Value of an address slot whose trail the whitelist covers: stop, report nothing.
    static constexpr std::uint32_t kSuppressed = 0xFFFFFFFE;
    // Domain refs with this bit name a whitelisted name in stop_names_, not an indicator.
    static constexpr std::uint32_t kStopBit = 0x80000000;

    struct DomainSlot {
        std::uint32_t tag = 0;  // low half of the hash: most mismatches never touch the text
        std::uint32_t ref = kAbsent;
    };

    const Indicator* hit(std::uint32_t ref) const {
        return ref >= kSuppressed ? nullptr : &store_[ref];
    }
    bool whitelisted_v4(std::uint32_t addr) const;
    bool whitelisted_v6(const V6Key& addr) const;

    std::string_view domain_name(std::uint32_t ref) const {
        return (ref & kStopBit) != 0 ? stop_names_[ref & ~kStopBit] : store_[ref].trail;
    }
    std::uint32_t domain_find(std::uint64_t hash, std::string_view name) const;
    std::uint32_t& domain_insert(std::uint64_t hash, std::string_view name, std::uint32_t ref,
                                 bool& inserted);
    void domain_grow();

    TextArena arena_;
    IndicatorStore store_;
    std::vector<FeedInfo> feeds_;
    std::size_t size_ = 0;

    OpenTable<std::uint32_t> v4_;
    OpenTable<std::uint64_t> v4_port_;
    OpenTable<V6Key> v6_;
    OpenTable<V6PortKey> v6_port_;
    PrefixTables<std::uint32_t, 32> cidr4_;
    PrefixTables<V6Key, 128> cidr6_;

    OpenTable<std::uint32_t> whitelist_v4_;
    OpenTable<V6Key> whitelist_v6_;
    PrefixTables<std::uint32_t, 32> whitelist_cidr4_;
    PrefixTables<V6Key, 128> whitelist_cidr6_;

    /// Builds the domain filter; called once by the builder when the tables are final.
    void finish_domains();
    /// Builds the IPv4 address filter; called once by the builder when the tables are final.
    void finish_addresses();
    bool v4_filter_has(std::uint32_t addr) const {
        const std::uint64_t bit = mix64(addr ^ kV4FilterSalt) & v4_filter_mask_;
        return (v4_filter_[bit / 64] & (std::uint64_t{1} << (bit % 64))) != 0;
    }
    // Salted so the filter's bits are independent of the slot index the tables derive from
    // the same hash.
    static constexpr std::uint32_t kV4FilterSalt = 0x9E3779B9;

    // One bit per IPv4 address that has an exact or address:port trail, about 8 bits per
    // address (1 MiB for the full static trails). Most flows hit no trail, and their four
    // address lookups per flow then stop here, in cache, instead of probing tables of
    // several MiB with a cache miss each (27 % of a benign run's CPU before this filter).
    std::vector<std::uint64_t> v4_filter_;
    std::uint64_t v4_filter_mask_ = 0;
    bool domain_filter_has(std::uint64_t hash) const {
        const std::uint64_t bit = hash & domain_filter_mask_;
        return (domain_filter_[bit / 64] & (std::uint64_t{1} << (bit % 64))) != 0;
    }

    std::vector<DomainSlot> domain_slots_;
    // One bit per name hash, about 8 bits per name (2 MiB for the full static trails): it
    // stays in cache where the 32 MiB table cannot, so most names that match nothing are
    // rejected at each level without a trip to memory.
    std::vector<std::uint64_t> domain_filter_;
    std::uint64_t domain_filter_mask_ = 0;
    std::size_t domain_size_ = 0;
    std::size_t domain_mask_ = 0;
    unsigned domain_shift_ = 64;
    std::vector<std::string_view> stop_names_;
};

/// Hash of a whole normalised name, consistent with the per-suffix hashes find_domain uses.
std::uint64_t hash_domain(std::string_view name);

}  // namespace malfix::intel
