#include "intel/trail_snapshot.hpp"

#include <cstring>

namespace malfix::intel {
namespace {

constexpr std::size_t kArenaBlock = std::size_t{1} << 20;
constexpr std::uint64_t kFnvOffset = 0xCBF29CE484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001B3ULL;
// 253 characters hold at most 127 labels.
constexpr std::size_t kMaxLabels = 128;

void prefetch(const void* address) {
#if defined(__GNUC__)
    __builtin_prefetch(address);
#else
    (void)address;
#endif
}

}  // namespace

std::string_view TextArena::store(std::string_view text) {
    if (text.size() > left_) {
        const std::size_t size = std::max(kArenaBlock, text.size());
        blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
        next_ = blocks_.back().get();
        left_ = size;
        reserved_ += size;
    }
    if (!text.empty()) {
        std::memcpy(next_, text.data(), text.size());
    }
    const std::string_view stored(next_, text.size());
    next_ += text.size();
    left_ -= text.size();
    return stored;
}

Indicator& IndicatorStore::push() {
    if ((size_ >> kChunkBits) == chunks_.size()) {
        chunks_.push_back(std::make_unique<Indicator[]>(std::size_t{1} << kChunkBits));
    }
    return (*this)[size_++];
}

V6Key to_v6_key(const std::array<std::uint8_t, 16>& addr) {
    V6Key key;
    for (int i = 0; i < 8; ++i) {
        key.hi = key.hi << 8 | addr[i];
        key.lo = key.lo << 8 | addr[i + 8];
    }
    return key;
}

// Hashes right to left so that the hash of every parent suffix falls out of one pass over the
// name; find_domain needs all of them.
std::uint64_t hash_domain(std::string_view name) {
    std::uint64_t h = kFnvOffset;
    for (std::size_t i = name.size(); i-- > 0;) {
        h = (h ^ static_cast<unsigned char>(name[i])) * kFnvPrime;
    }
    return mix64(h);
}

const Indicator* TrailSnapshot::find_ipv4(std::uint32_t host_order) const {
    if (v4_filter_has(host_order)) {
        const std::uint32_t exact = v4_.find(host_order);
        if (exact != kAbsent) {
            return hit(exact);
        }
    }
    if (cidr4_.empty()) {
        return nullptr;
    }
    const std::uint32_t network = cidr4_.find(host_order);
    if (network == kAbsent || whitelisted_v4(host_order)) {
        return nullptr;
    }
    return hit(network);
}

const Indicator* TrailSnapshot::find_ipv6(const std::array<std::uint8_t, 16>& addr) const {
    if (v6_.empty() && cidr6_.empty()) {
        return nullptr;
    }
    const V6Key key = to_v6_key(addr);
    const std::uint32_t exact = v6_.find(key);
    if (exact != kAbsent) {
        return hit(exact);
    }
    const std::uint32_t network = cidr6_.find(key);
    if (network == kAbsent || whitelisted_v6(key)) {
        return nullptr;
    }
    return hit(network);
}

const Indicator* TrailSnapshot::find_ipv4_port(std::uint32_t host_order, std::uint16_t port) const {
    if (!v4_filter_has(host_order)) {
        return nullptr;
    }
    const std::uint32_t ref = v4_port_.find(std::uint64_t{host_order} << 16 | port);
    return ref == kAbsent ? nullptr : hit(ref);
}

const Indicator* TrailSnapshot::find_ipv6_port(const std::array<std::uint8_t, 16>& addr,
                                               std::uint16_t port) const {
    if (v6_port_.empty()) {
        return nullptr;
    }
    const V6Key key = to_v6_key(addr);
    const std::uint32_t ref = v6_port_.find({key.hi, key.lo, port});
    return ref == kAbsent ? nullptr : hit(ref);
}

DomainMatch TrailSnapshot::find_domain(std::string_view name) const {
    if (domain_size_ == 0 || name.empty() || name.size() > kMaxDomainLength) {
        return {};
    }
    std::array<std::uint64_t, kMaxLabels> hashes;
    std::array<std::uint8_t, kMaxLabels> starts;
    std::size_t count = 0;
    std::uint64_t h = kFnvOffset;
    for (std::size_t i = name.size(); i-- > 0;) {
        h = (h ^ static_cast<unsigned char>(name[i])) * kFnvPrime;
        if (i == 0 || name[i - 1] == '.') {
            hashes[count] = mix64(h);
            starts[count] = static_cast<std::uint8_t>(i);
            prefetch(&domain_filter_[(hashes[count] & domain_filter_mask_) / 64]);
            ++count;
        }
    }
    // Most specific first; whitelisted names sit in the same table and stop the walk.
    while (count-- > 0) {
        if (!domain_filter_has(hashes[count])) {
            continue;
        }
        const std::uint32_t ref = domain_find(hashes[count], name.substr(starts[count]));
        if (ref == kAbsent) {
            continue;
        }
        if ((ref & kStopBit) != 0) {
            return {};
        }
        return {&store_[ref], starts[count] == 0 ? 0U : starts[count] - 1U};
    }
    return {};
}

std::size_t TrailSnapshot::memory_bytes() const {
    return arena_.memory_bytes() + store_.memory_bytes() + v4_.memory_bytes() +
           v4_port_.memory_bytes() + v6_.memory_bytes() + v6_port_.memory_bytes() +
           cidr4_.memory_bytes() + cidr6_.memory_bytes() + v4_filter_.capacity() * 8 +
           domain_slots_.capacity() * sizeof(DomainSlot) + domain_filter_.capacity() * 8;
}

void TrailSnapshot::finish_domains() {
    std::size_t bits = 64;
    while (bits < domain_size_ * 8) {
        bits *= 2;
    }
    domain_filter_.assign(bits / 64, 0);
    domain_filter_mask_ = bits - 1;
    for (const DomainSlot& slot : domain_slots_) {
        if (slot.ref != kAbsent) {
            const std::uint64_t bit = hash_domain(domain_name(slot.ref)) & domain_filter_mask_;
            domain_filter_[bit / 64] |= std::uint64_t{1} << (bit % 64);
        }
    }
}

void TrailSnapshot::finish_addresses() {
    std::size_t bits = 64;
    while (bits < (v4_.size() + v4_port_.size()) * 8) {
        bits *= 2;
    }
    v4_filter_.assign(bits / 64, 0);
    v4_filter_mask_ = bits - 1;
    auto set = [this](std::uint32_t addr) {
        const std::uint64_t bit = mix64(addr ^ kV4FilterSalt) & v4_filter_mask_;
        v4_filter_[bit / 64] |= std::uint64_t{1} << (bit % 64);
    };
    v4_.for_each_key(set);
    v4_port_.for_each_key(
        [&set](std::uint64_t key) { set(static_cast<std::uint32_t>(key >> 16)); });
}

bool TrailSnapshot::whitelisted_v4(std::uint32_t addr) const {
    return whitelist_v4_.find(addr) != kAbsent || whitelist_cidr4_.find(addr) != kAbsent;
}

bool TrailSnapshot::whitelisted_v6(const V6Key& addr) const {
    return whitelist_v6_.find(addr) != kAbsent || whitelist_cidr6_.find(addr) != kAbsent;
}

std::uint32_t TrailSnapshot::domain_find(std::uint64_t hash, std::string_view name) const {
    const auto tag = static_cast<std::uint32_t>(hash);
    for (std::size_t i = hash >> domain_shift_;; i = (i + 1) & domain_mask_) {
        const DomainSlot& slot = domain_slots_[i];
        if (slot.ref == kAbsent) {
            return kAbsent;
        }
        if (slot.tag == tag && domain_name(slot.ref) == name) {
            return slot.ref;
        }
    }
}

std::uint32_t& TrailSnapshot::domain_insert(std::uint64_t hash, std::string_view name,
                                            std::uint32_t ref, bool& inserted) {
    if ((domain_size_ + 1) * 10 > domain_slots_.size() * 7) {
        domain_grow();
    }
    const auto tag = static_cast<std::uint32_t>(hash);
    for (std::size_t i = hash >> domain_shift_;; i = (i + 1) & domain_mask_) {
        DomainSlot& slot = domain_slots_[i];
        if (slot.ref == kAbsent) {
            slot = {tag, ref};
            ++domain_size_;
            inserted = true;
            return slot.ref;
        }
        if (slot.tag == tag && domain_name(slot.ref) == name) {
            inserted = false;
            return slot.ref;
        }
    }
}

void TrailSnapshot::domain_grow() {
    std::vector<DomainSlot> old = std::move(domain_slots_);
    const std::size_t capacity = old.empty() ? 64 : old.size() * 2;
    domain_slots_.assign(capacity, DomainSlot{});
    domain_mask_ = capacity - 1;
    domain_shift_ = 64;
    for (std::size_t c = capacity; c > 1; c >>= 1) {
        --domain_shift_;
    }
    for (const DomainSlot& slot : old) {
        if (slot.ref == kAbsent) {
            continue;
        }
        // The tag is only the low half of the hash, so recompute the index from the text.
        const std::uint64_t hash = hash_domain(domain_name(slot.ref));
        std::size_t i = hash >> domain_shift_;
        while (domain_slots_[i].ref != kAbsent) {
            i = (i + 1) & domain_mask_;
        }
        domain_slots_[i] = slot;
    }
}

}  // namespace malfix::intel
