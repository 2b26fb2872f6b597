#include "base/md5_many.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "base/encoding.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace postbox {
namespace {

#if defined(__x86_64__)

constexpr size_t kLanes = 8;
constexpr size_t kBlockBytes = 64;

// RFC 1321's sine table, rotation amounts and message word order, step by step.
constexpr uint32_t kSine[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kRotation[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

constexpr int WordOf(int step) {
  const int round = step / 16;
  const int i = step % 16;
  switch (round) {
    case 0:
      return i;
    case 1:
      return (5 * i + 1) % 16;
    case 2:
      return (3 * i + 5) % 16;
    default:
      return (7 * i) % 16;
  }
}

// One input's blocks: whole blocks straight from the input, then one or two padded ones.
struct LaneInput {
  const unsigned char* data = nullptr;
  size_t whole_blocks = 0;
  size_t blocks = 0;  // whole blocks plus padded ones
  alignas(32) unsigned char tail[2 * kBlockBytes] = {};

  void Set(std::string_view in) {
    data = reinterpret_cast<const unsigned char*>(in.data());
    whole_blocks = in.size() / kBlockBytes;
    const size_t rest = in.size() % kBlockBytes;
    // The 0x80 marker and the 8-byte length must fit after the rest: else a second block.
    const size_t tail_blocks = rest + 1 + 8 <= kBlockBytes ? 1 : 2;
    blocks = whole_blocks + tail_blocks;
    std::memset(tail, 0, sizeof(tail));
    if (rest > 0) std::memcpy(tail, data + whole_blocks * kBlockBytes, rest);
    tail[rest] = 0x80;
    const uint64_t bits = uint64_t(in.size()) * 8;
    std::memcpy(tail + tail_blocks * kBlockBytes - 8, &bits, 8);  // little-endian, as MD5 wants
  }
  const unsigned char* Block(size_t b) const {
    return b < whole_blocks ? data + b * kBlockBytes : tail + (b - whole_blocks) * kBlockBytes;
  }
};

// One of MD5's 64 steps on eight lanes at once; `a` becomes the new b (the caller rotates the
// roles). Every constant is a template argument, so the compiler unrolls all of it.
template <int kStep>
__attribute__((target("avx2"), always_inline)) inline void Step(__m256i& a, __m256i b, __m256i c,
                                                                __m256i d, const __m256i* words) {
  constexpr int kRound = kStep / 16;
  constexpr int kBits = kRotation[kRound][kStep % 4];
  __m256i f;
  if constexpr (kRound == 0) {  // F = (b & c) | (~b & d)
    f = _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));
  } else if constexpr (kRound == 1) {  // G = (b & d) | (c & ~d)
    f = _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)));
  } else if constexpr (kRound == 2) {  // H = b ^ c ^ d
    f = _mm256_xor_si256(b, _mm256_xor_si256(c, d));
  } else {  // I = c ^ (b | ~d)
    f = _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, _mm256_set1_epi32(-1))));
  }
  f = _mm256_add_epi32(
      _mm256_add_epi32(f, a),
      _mm256_add_epi32(_mm256_set1_epi32(int(kSine[kStep])), words[WordOf(kStep)]));
  f = _mm256_or_si256(_mm256_slli_epi32(f, kBits), _mm256_srli_epi32(f, 32 - kBits));
  a = _mm256_add_epi32(b, f);
}

// The 64 steps of one block. The roles of a, b, c, d rotate by one each step, so four steps
// bring them back.
template <int... kQuad>
__attribute__((target("avx2"), always_inline)) inline void Steps(
    __m256i& a, __m256i& b, __m256i& c, __m256i& d, const __m256i* words,
    std::integer_sequence<int, kQuad...>) {
  ((Step<4 * kQuad>(a, b, c, d, words), Step<4 * kQuad + 1>(d, a, b, c, words),
    Step<4 * kQuad + 2>(c, d, a, b, words), Step<4 * kQuad + 3>(b, c, d, a, words)),
   ...);
}

// Words 0-7 (offset 0) or 8-15 (offset 32) of eight blocks, transposed: element l of
// words[w] is word w of block l.
__attribute__((target("avx2"), always_inline)) inline void TransposeHalf(
    const unsigned char* const* blocks, size_t offset, __m256i* words) {
  __m256i r[kLanes];
  for (size_t l = 0; l < kLanes; ++l) {
    r[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[l] + offset));
  }
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  // Rows 0-3 and 4-7 of words (w, w + 4) for w = 0..3.
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  words[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  words[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  words[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  words[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  words[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  words[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  words[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  words[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Hashes up to kLanes inputs in the lanes of AVX2 registers; lanes past `count` idle.
__attribute__((target("avx2"))) void Md5Lanes(const std::string_view* inputs, size_t count,
                                              std::string* out) {
  static const unsigned char kIdleBlock[kBlockBytes] = {};
  std::array<LaneInput, kLanes> lanes;
  size_t max_blocks = 0;
  alignas(32) int32_t block_counts[kLanes] = {};
  for (size_t l = 0; l < count; ++l) {
    lanes[l].Set(inputs[l]);
    block_counts[l] = int32_t(lanes[l].blocks);
    max_blocks = std::max(max_blocks, lanes[l].blocks);
  }
  const __m256i counts = _mm256_load_si256(reinterpret_cast<const __m256i*>(block_counts));
  __m256i a = _mm256_set1_epi32(int(0x67452301));
  __m256i b = _mm256_set1_epi32(int(0xefcdab89));
  __m256i c = _mm256_set1_epi32(int(0x98badcfe));
  __m256i d = _mm256_set1_epi32(int(0x10325476));
  for (size_t block = 0; block < max_blocks; ++block) {
    const unsigned char* p[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      p[l] = l < count && block < lanes[l].blocks ? lanes[l].Block(block) : kIdleBlock;
    }
    // Word w of every lane's block, lane l in 32-bit element l.
    __m256i words[16];
    TransposeHalf(p, 0, words);
    TransposeHalf(p, 32, words + 8);
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
    Steps(a, b, c, d, words, std::make_integer_sequence<int, 16>());
    // Lanes whose input has no block here keep their state.
    const __m256i active = _mm256_cmpgt_epi32(counts, _mm256_set1_epi32(int(block)));
    a = _mm256_blendv_epi8(a0, _mm256_add_epi32(a, a0), active);
    b = _mm256_blendv_epi8(b0, _mm256_add_epi32(b, b0), active);
    c = _mm256_blendv_epi8(c0, _mm256_add_epi32(c, c0), active);
    d = _mm256_blendv_epi8(d0, _mm256_add_epi32(d, d0), active);
  }
  alignas(32) uint32_t state[4][kLanes];
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[0]), a);
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[1]), b);
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[2]), c);
  _mm256_store_si256(reinterpret_cast<__m256i*>(state[3]), d);
  for (size_t l = 0; l < count; ++l) {
    char digest[16];
    for (int i = 0; i < 4; ++i) std::memcpy(digest + 4 * i, &state[i][l], 4);
    out[l] = HexEncode(std::string_view(digest, 16));
  }
}

#endif

}  // namespace

std::vector<std::string> Md5HexMany(std::span<const std::string_view> inputs) {
  std::vector<std::string> out(inputs.size());
#if defined(__x86_64__)
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  if (has_avx2 && inputs.size() > 1) {
    // Longest first, so that each group of lanes holds inputs of similar length: a group
    // costs about twice a scalar hash of its longest input.
    std::vector<size_t> order(inputs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return inputs[x].size() > inputs[y].size(); });
    size_t next = 0;
    while (next < order.size()) {
      const size_t count = std::min(kLanes, order.size() - next);
      size_t total = 0;
      for (size_t i = next; i < next + count; ++i) total += inputs[order[i]].size() + 1;
      if (count == 1 || total < 2 * (inputs[order[next]].size() + 1)) {
        // Alone, or much longer than the rest: lanes would cost more than hashing it alone.
        out[order[next]] = Md5Hex(inputs[order[next]]);
        ++next;
        continue;
      }
      std::string_view group[kLanes];
      std::string digests[kLanes];
      for (size_t l = 0; l < count; ++l) group[l] = inputs[order[next + l]];
      Md5Lanes(group, count, digests);
      for (size_t l = 0; l < count; ++l) out[order[next + l]] = std::move(digests[l]);
      next += count;
    }
    return out;
  }
#endif
  for (size_t i = 0; i < inputs.size(); ++i) out[i] = Md5Hex(inputs[i]);
  return out;
}

}  // namespace postbox
