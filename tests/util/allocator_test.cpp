// configure_allocator: after it, a block far above glibc's mmap threshold comes from the heap and
// its pages stay mapped after free (what saves the page faults of the next forward pass).
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "util/allocator.h"

namespace vitc {
namespace {

TEST(Allocator, LargeBlocksComeFromTheHeapAndStay) {
  EXPECT_EQ(configure_allocator(false), "malloc defaults");
  const std::string description = configure_allocator(true);
  EXPECT_NE(description.find("kept for reuse"), std::string::npos) << description;
  const size_t size = size_t{64} << 20;  // 64 MiB, twice glibc's largest mmap threshold
  const size_t mmapped_before = mallinfo2().hblkhd;
  char* block = static_cast<char*>(std::malloc(size));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size);
  EXPECT_EQ(mallinfo2().hblkhd, mmapped_before);  // not a new mmapped block
  std::free(block);
  EXPECT_GE(mallinfo2().fordblks, size);  // the freed block stays in the heap for reuse
}

}  // namespace
}  // namespace vitc
