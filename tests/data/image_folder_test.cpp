// Image folders: scanning, labels, decoding through the DeiT transforms, grayscale and CMYK
// images, corrupt files (error by path, or left out), few-shot subsets, seeded training crops
// through the DataLoader, and safetensors batches.
#include "data/image_folder.h"

#include <gtest/gtest.h>

#include "data/loader.h"
#include "data/sampling.h"
#include "data/tensor_file.h"
#include "io/image_test_util.h"
#include "io/safetensors.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;

std::vector<uint8_t> solid(int w, int h, std::vector<uint8_t> rgb) {
  std::vector<uint8_t> p;
  for (int i = 0; i < w * h; ++i) p.insert(p.end(), rgb.begin(), rgb.end());
  return p;
}

// root/cat: 3 images (PNG red, JPEG, grayscale JPEG), root/dog: 2 images (PNG, CMYK JPEG) and
// a corrupt one when `corrupt`, plus files and folders the scan must ignore.
std::string make_folder(const std::string& name, bool corrupt) {
  const std::string root = fresh_dir(name);
  std::filesystem::create_directories(root + "/cat/nested");
  std::filesystem::create_directories(root + "/dog");
  std::filesystem::create_directories(root + "/.cache/x");
  write_png(root + "/cat/a_red.png", 40, 30, PNG_COLOR_TYPE_RGB, 8, solid(40, 30, {255, 0, 0}));
  write_jpeg(root + "/cat/b.JPEG", 48, 32, 3, gradient(48, 32, 3));
  write_jpeg(root + "/cat/nested/c_gray.jpg", 20, 36, 1, gradient(20, 36, 1));
  write_png(root + "/dog/d.png", 33, 33, PNG_COLOR_TYPE_GRAY, 8, gradient(33, 33, 1, 3));
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 24 * 24; ++i) cmyk.insert(cmyk.end(), {255, 0, 0, 255});
  write_jpeg(root + "/dog/e_cmyk.jpg", 24, 24, 4, cmyk, 100);
  write_bytes(root + "/dog/notes.txt", "ignored");
  write_bytes(root + "/README", "ignored");
  write_png(root + "/.cache/x/f.png", 4, 4, PNG_COLOR_TYPE_GRAY, 8, gradient(4, 4, 1));
  if (corrupt) {
    write_jpeg(root + "/dog/z_bad.jpg", 32, 32, 3, gradient(32, 32, 3));
    const std::string bytes = read_bytes(root + "/dog/z_bad.jpg");
    write_bytes(root + "/dog/z_bad.jpg", bytes.substr(0, bytes.size() / 3));
  }
  return root;
}

ImageFolderOptions small_options(int channels = 3) {
  ImageFolderOptions o;
  o.image_size = 16;
  o.channels = channels;
  o.mean.assign(channels, 0.5);
  o.std.assign(channels, 0.25);
  o.decode_threads = 2;
  return o;
}

using test_support::error_of;

TEST(ImageFolder, ScansClassesAndImagesInOrder) {
  const std::string root = make_folder("scan", false);
  ImageFolderDataset data(root, small_options());
  EXPECT_EQ(data.classes(), (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(data.size(), 5);
  EXPECT_EQ(data.num_classes(), 2);
  EXPECT_EQ(data.relative_path(0), "cat/a_red.png");
  EXPECT_EQ(data.relative_path(1), "cat/b.JPEG");
  EXPECT_EQ(data.relative_path(2), "cat/nested/c_gray.jpg");
  EXPECT_EQ(data.relative_path(4), "dog/e_cmyk.jpg");
  EXPECT_TRUE(data.labels().equal(at::tensor(std::vector<int64_t>{0, 0, 0, 1, 1})));
}

TEST(ImageFolder, DecodesEveryKindToNormalisedTensors) {
  const std::string root = make_folder("decode", false);
  ImageFolderDataset data(root, small_options());
  const Batch batch = data.get_batch({0, 1, 2, 3, 4});
  ASSERT_EQ(batch.images.sizes(), (std::vector<int64_t>{5, 3, 16, 16}));
  EXPECT_TRUE(batch.labels.equal(at::tensor(std::vector<int64_t>{0, 0, 0, 1, 1})));
  // Solid red: (1 - 0.5) / 0.25 = 2 and (0 - 0.5) / 0.25 = -2 everywhere, exactly.
  EXPECT_TRUE(batch.images[0][0].eq(2.0f).all().item<bool>());
  EXPECT_TRUE(batch.images[0][1].eq(-2.0f).all().item<bool>());
  // Grayscale images become three equal channels.
  EXPECT_TRUE(batch.images[2][0].equal(batch.images[2][2]));
  EXPECT_TRUE(batch.images[3][0].equal(batch.images[3][1]));
  // Adobe CMYK red decodes to red.
  EXPECT_GT(batch.images[4][0].mean().item<float>(), 1.8f);
  EXPECT_LT(batch.images[4][1].mean().item<float>(), -1.8f);
  // A one-channel model gets PIL's luma of red: 76 / 255.
  ImageFolderDataset gray(root, small_options(1));
  const Batch g = gray.get_batch({0});
  EXPECT_EQ(g.images.sizes(), (std::vector<int64_t>{1, 1, 16, 16}));
  EXPECT_NEAR(g.images[0][0][3][3].item<float>(), (76.0 / 255 - 0.5) / 0.25, 1e-5);
  // Decoding with 1 or several threads gives the same batch.
  ImageFolderOptions one = small_options();
  one.decode_threads = 1;
  EXPECT_TRUE(ImageFolderDataset(root, one).get_batch({4, 1, 2}).images.equal(
      data.get_batch({4, 1, 2}).images));
}

TEST(ImageFolder, CorruptImageIsReportedByPathOrLeftOut) {
  const std::string root = make_folder("corrupt", true);
  ImageFolderDataset data(root, small_options());
  ASSERT_EQ(data.size(), 6);
  const std::string message = error_of([&] { data.get_batch({0, 5}); });
  EXPECT_NE(message.find("dog/z_bad.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("--skip-bad-images"), std::string::npos) << message;
  std::vector<std::string> bad;
  const std::vector<int64_t> good = data.readable({0, 1, 2, 3, 4, 5}, bad);
  EXPECT_EQ(good, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("z_bad.jpg"), std::string::npos);
  // The readable ones load.
  const auto subset = make_subset(std::make_shared<ImageFolderDataset>(root, small_options()), good);
  EXPECT_EQ(subset->get_batch({0, 1, 2, 3, 4}).images.size(0), 5);
}

TEST(ImageFolder, BadFoldersAreClearErrors) {
  const std::string root = fresh_dir("bad_folder");
  EXPECT_NE(error_of([&] { ImageFolderDataset(root + "/nope", small_options()); }).find("does not exist"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ImageFolderDataset(root, small_options()); }).find("no class directories"),
            std::string::npos);
  std::filesystem::create_directories(root + "/empty_class");
  EXPECT_NE(error_of([&] { ImageFolderDataset(root, small_options()); }).find("empty_class"),
            std::string::npos);
  ImageFolderOptions four = small_options();
  four.channels = 4;
  EXPECT_NE(error_of([&] { ImageFolderDataset(root, four); }).find("1 or 3 channels"),
            std::string::npos);
}

TEST(ImageFolder, FewShotPerClassIsSeededAndBalanced) {
  const std::string root = make_folder("few_shot", false);
  ImageFolderDataset data(root, small_options());
  const auto a = sample_per_class(data, 2, 5);
  EXPECT_EQ(a, sample_per_class(data, 2, 5));
  ASSERT_EQ(a.size(), 4u);
  int cats = 0;
  for (int64_t i : a) cats += data.labels()[i].item<int64_t>() == 0;
  EXPECT_EQ(cats, 2);
  EXPECT_THROW(sample_per_class(data, 3, 5), Error);  // dog has only 2
}

TEST(ImageFolder, TrainingCropsAreSeededThroughTheLoader) {
  const std::string root = make_folder("train_crops", false);
  ImageFolderOptions options = small_options();
  options.train_transform = true;
  auto data = std::make_shared<ImageFolderDataset>(root, options);
  // get_batch keeps the evaluation transform; the loader's path draws crops from its seed.
  const Batch eval = data->get_batch({1});
  const Batch x = data->get_augmented_batch({1}, 11);
  EXPECT_TRUE(x.images.equal(data->get_augmented_batch({1}, 11).images));
  EXPECT_FALSE(x.images.equal(eval.images));
  LoaderOptions lo;
  lo.batch_size = 5;
  lo.seed = 3;
  lo.prefetch = 0;
  auto epoch_images = [&](int64_t epoch) {
    DataLoader loader(data, lo);
    loader.start_epoch(epoch);
    Batch b;
    EXPECT_TRUE(loader.next(b));
    return b.images;
  };
  EXPECT_TRUE(epoch_images(0).equal(epoch_images(0)));
  EXPECT_FALSE(epoch_images(0).equal(epoch_images(1)));
}

TEST(TensorFile, ReadsFloatAndPixelBatchesWithChecks) {
  const std::string dir = fresh_dir("tensor_file");
  const at::Tensor images = at::rand({3, 1, 8, 8});
  write_safetensors(dir + "/batch.safetensors",
                    {{"images", images}, {"labels", at::tensor(std::vector<int32_t>{0, 4, 1})}});
  const TensorBatch b = read_tensor_batch(dir + "/batch.safetensors", 1, 8, {0.5}, {0.5});
  EXPECT_TRUE(b.images.equal(images));
  EXPECT_TRUE(b.labels.equal(at::tensor(std::vector<int64_t>{0, 4, 1})));
  const auto data = load_tensor_dataset(dir + "/batch.safetensors", 1, 8, {0.5}, {0.5}, 10);
  EXPECT_EQ(data->num_classes(), 10);

  write_safetensors(dir + "/pixels.safetensors", {{"x", at::full({2, 1, 8, 8}, 255, at::kByte)}});
  const TensorBatch p = read_tensor_batch(dir + "/pixels.safetensors", 1, 8, {0.5}, {0.5});
  EXPECT_TRUE(p.images.eq(1.0f).all().item<bool>());
  EXPECT_FALSE(p.labels.defined());
  EXPECT_NE(error_of([&] { load_tensor_dataset(dir + "/pixels.safetensors", 1, 8, {0.5}, {0.5}); })
                .find("no \"labels\""),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_tensor_batch(dir + "/batch.safetensors", 3, 8, {0, 0, 0}, {1, 1, 1}); })
                .find("[N, 3, 8, 8]"),
            std::string::npos);
  write_safetensors(dir + "/two.safetensors", {{"a", images}, {"b", images}});
  EXPECT_NE(error_of([&] { read_tensor_batch(dir + "/two.safetensors", 1, 8, {0.5}, {0.5}); })
                .find("\"images\""),
            std::string::npos);
}

TEST(ImageFiles, ListsFilesAndFoldersAndLoadsThem) {
  const std::string root = make_folder("files", false);
  const auto files = list_image_files({root + "/dog", root + "/cat/a_red.png"});
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[2], root + "/cat/a_red.png");
  const at::Tensor images = load_images(files, small_options());
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{3, 3, 16, 16}));
  EXPECT_THROW(list_image_files({root + "/missing.png"}), Error);
}

TEST(ImageFolder, LinkedDirectoriesAreListedOnce) {
  const std::string root = fresh_dir("symlink_loop");
  std::filesystem::create_directories(root + "/cat/sub");
  std::filesystem::create_directories(root + "/dog");
  write_png(root + "/cat/sub/a.png", 8, 8, PNG_COLOR_TYPE_GRAY, 8, gradient(8, 8, 1));
  write_png(root + "/dog/b.png", 8, 8, PNG_COLOR_TYPE_GRAY, 8, gradient(8, 8, 1));
  // A loop (sub/up -> its parent) and a second link to an already listed folder.
  std::filesystem::create_directory_symlink("..", root + "/cat/sub/up");
  std::filesystem::create_directory_symlink("sub", root + "/cat/again");
  // A link to a folder listed nowhere else is followed.
  const std::string elsewhere = fresh_dir("symlink_target");
  write_png(elsewhere + "/c.png", 8, 8, PNG_COLOR_TYPE_GRAY, 8, gradient(8, 8, 1));
  std::filesystem::create_directory_symlink(elsewhere, root + "/dog/linked");
  ImageFolderDataset data(root, small_options(1));
  EXPECT_EQ(data.size(), 3);  // a.png once (not 41 times through the loop), b.png, c.png
  EXPECT_EQ(list_image_files({root + "/cat"}).size(), 1u);
}

}  // namespace
}  // namespace vitc
