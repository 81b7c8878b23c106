#pragma once

#include <cstdint>
#include <vector>

namespace malfix::intel {

/// Key of an IPv6 address: the 16 bytes as two big-endian words.
struct V6Key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    bool operator==(const V6Key&) const = default;
};

/// Key of an IPv6 address and port.
struct V6PortKey {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::uint16_t port = 0;
    bool operator==(const V6PortKey&) const = default;
};

/// Murmur3's 64-bit finaliser: spreads every key bit over the high bits the table indexes by.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    x ^= x >> 33;
    return x;
}

constexpr std::uint64_t hash_key(std::uint32_t key) {
    return mix64(key);
}
constexpr std::uint64_t hash_key(std::uint64_t key) {
    return mix64(key);
}
constexpr std::uint64_t hash_key(const V6Key& key) {
    return mix64(key.hi ^ mix64(key.lo));
}
constexpr std::uint64_t hash_key(const V6PortKey& key) {
    return mix64(key.hi ^ mix64(key.lo ^ (std::uint64_t{key.port} << 48)));
}

/// Open-addressing hash map from a fixed-size key to a 32-bit value, linear probing, kept at
/// most 70 % full. Built once, then only read: no erase. Slots hold the key inline so a probe
/// touches one cache line in the common case.
template <typename Key>
class OpenTable {
public:
    static constexpr std::uint32_t kAbsent = 0xFFFFFFFF;

    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot); }

    std::uint32_t find(const Key& key) const {
        if (size_ == 0) {
            return kAbsent;
        }
        for (std::size_t i = hash_key(key) >> shift_;; i = (i + 1) & mask_) {
            const Slot& slot = slots_[i];
            if (slot.value == kAbsent || slot.key == key) {
                return slot.value;
            }
        }
    }

    /// Returns the value slot for key, inserting value first when key is new (inserted = true).
    std::uint32_t& insert(const Key& key, std::uint32_t value, bool& inserted) {
        if ((size_ + 1) * 10 > slots_.size() * 7) {
            grow();
        }
        Slot* slot = probe(key);
        inserted = slot->value == kAbsent;
        if (inserted) {
            slot->key = key;
            slot->value = value;
            ++size_;
        }
        return slot->value;
    }

    /// Calls f(key) for every key present, in slot order.
    template <typename F>
    void for_each_key(F&& f) const {
        for (const Slot& slot : slots_) {
            if (slot.value != kAbsent) {
                f(slot.key);
            }
        }
    }

    /// Value slot of a present key, for rewriting a value after the fact; nullptr if absent.
    std::uint32_t* find_mutable(const Key& key) {
        if (size_ == 0) {
            return nullptr;
        }
        Slot* slot = probe(key);
        return slot->value == kAbsent ? nullptr : &slot->value;
    }

private:
    struct Slot {
        Key key{};
        std::uint32_t value = kAbsent;
    };

    Slot* probe(const Key& key) {
        for (std::size_t i = hash_key(key) >> shift_;; i = (i + 1) & mask_) {
            Slot& slot = slots_[i];
            if (slot.value == kAbsent || slot.key == key) {
                return &slot;
            }
        }
    }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        const std::size_t capacity = old.empty() ? 16 : old.size() * 2;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        shift_ = 64;
        for (std::size_t c = capacity; c > 1; c >>= 1) {
            --shift_;
        }
        for (const Slot& slot : old) {
            if (slot.value != kAbsent) {
                *probe(slot.key) = slot;
            }
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
    std::size_t mask_ = 0;
    unsigned shift_ = 64;
};

}  // namespace malfix::intel
