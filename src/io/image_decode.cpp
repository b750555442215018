// JPEG and PNG decoding through libjpeg(-turbo) and libpng, with their errors turned into vitc::Error.
#include "io/image_decode.h"

#include <atomic>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "util/error.h"
#include "util/files.h"

namespace vitc {

ImageFormat sniff_image_format(const std::string& bytes) {
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF &&
      static_cast<uint8_t>(bytes[1]) == 0xD8 && static_cast<uint8_t>(bytes[2]) == 0xFF) {
    return ImageFormat::kJpeg;
  }
  static const char kPngMagic[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPngMagic, 8) == 0) return ImageFormat::kPng;
  return ImageFormat::kUnknown;
}

namespace {

std::atomic<uint64_t> g_max_image_pixels{kDefaultMaxImagePixels};

// Real progressive JPEGs have about ten scans; thousands of tiny ones are a CPU bomb.
constexpr int kMaxJpegScans = 1000;

// The message for an image whose header claims more pixels than the limit, or "".
std::string too_many_pixels(uint64_t width, uint64_t height) {
  const uint64_t limit = g_max_image_pixels.load();
  if (width * height <= limit) return "";  // both are at most 2^32 - 1: no overflow
  return str_cat("its header claims ", width, " x ", height, " = ", width * height,
                 " pixels, more than the limit of ", limit,
                 " (a decompression bomb? --max-image-pixels raises the limit)");
}

// PIL's "L" conversion (ITU-R 601-2 luma in 16-bit fixed point), so grayscale models see what a
// PIL-based pipeline would give them.
uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {
  return static_cast<uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

// Converts 1- or 3-channel pixels to `channels` channels.
Image to_channels(Image image, int channels) {
  if (image.channels == channels) return image;
  const size_t n = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  std::vector<uint8_t> out(n * static_cast<size_t>(channels));
  if (channels == 1) {  // RGB -> gray
    for (size_t i = 0; i < n; ++i) {
      out[i] = luma(image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2]);
    }
  } else {  // gray -> RGB
    for (size_t i = 0; i < n; ++i) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = image.pixels[i];
  }
  image.pixels = std::move(out);
  image.channels = channels;
  return image;
}

// ---- JPEG -----------------------------------------------------------------------------------

struct JpegErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// A truncated file ("Premature end of JPEG file") is an error here, as in PIL: a half-grey image
// must not slip into an evaluation unnoticed. Other corrupt-data warnings (extraneous bytes before
// a marker, common in real photo collections) are ignored, as PIL does.
void jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_error_exit(cinfo);
}

// Called by libjpeg between passes and scans: stops a progressive file with absurdly many scans.
void jpeg_limit_scans(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  const int scans = reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number;
  if (scans <= kMaxJpegScans) return;
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  std::snprintf(err->message, sizeof(err->message), "more than %d progressive scans (corrupt or a "
                "decompression bomb)", kMaxJpegScans);
  std::longjmp(err->jump, 1);
}

// Runs the whole decode between setjmp and the end, with only trivially destructible locals
// live across the longjmp; returns false and fills `message` on a libjpeg error.
bool decode_jpeg_raw(const std::string& bytes, Image& image, bool& adobe, J_COLOR_SPACE& space,
                     std::string& message) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof(cinfo));  // so that a destroy before create is harmless
  JpegErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_error_exit;
  err.pub.emit_message = jpeg_emit_message;
  err.message[0] = '\0';
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    message = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_progress_mgr progress;
  std::memset(&progress, 0, sizeof(progress));
  progress.progress_monitor = jpeg_limit_scans;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  message = too_many_pixels(cinfo.image_width, cinfo.image_height);
  if (!message.empty()) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  space = cinfo.jpeg_color_space;
  adobe = cinfo.saw_Adobe_marker != 0;
  if (space == JCS_CMYK || space == JCS_YCCK) {
    cinfo.out_color_space = JCS_CMYK;  // libjpeg turns YCCK into CMYK; we turn CMYK into RGB
  } else if (space == JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  cinfo.dct_method = JDCT_ISLOW;  // the accurate IDCT, as PIL
  jpeg_start_decompress(&cinfo);
  image.width = static_cast<int>(cinfo.output_width);
  image.height = static_cast<int>(cinfo.output_height);
  image.channels = cinfo.output_components;
  const size_t row_bytes = static_cast<size_t>(image.width) * static_cast<size_t>(image.channels);
  image.pixels.resize(row_bytes * static_cast<size_t>(image.height));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = image.pixels.data() + row_bytes * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Image decode_jpeg(const std::string& bytes, const std::string& path, int channels) {
  Image image;
  bool adobe = false;
  J_COLOR_SPACE space = JCS_UNKNOWN;
  std::string message;
  check(decode_jpeg_raw(bytes, image, adobe, space, message), "cannot decode JPEG image '", path,
        "': ", message);
  if (image.channels == 4) {
    // CMYK -> RGB as PIL: R = (255 - C) * (255 - K) / 255. Adobe's files store the inks
    // inverted (PIL's "CMYK;I"), which is what an Adobe APP14 marker announces.
    const size_t n = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
    std::vector<uint8_t> rgb(3 * n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = &image.pixels[4 * i];
      const int k = adobe ? p[3] : 255 - p[3];
      for (int c = 0; c < 3; ++c) {
        const int ink_free = adobe ? p[c] : 255 - p[c];
        rgb[3 * i + static_cast<size_t>(c)] = static_cast<uint8_t>((ink_free * k + 127) / 255);
      }
    }
    image.pixels = std::move(rgb);
    image.channels = 3;
  }
  check(image.channels == 1 || image.channels == 3, "cannot decode JPEG image '", path,
        "': unsupported colour space ", static_cast<int>(space));
  return to_channels(std::move(image), channels);
}

// ---- PNG ------------------------------------------------------------------------------------

struct PngSource {
  const std::string* bytes;
  size_t offset;
};

struct PngErrorState {
  std::jmp_buf jump;
  char message[256];
};

void png_error_fn(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngErrorState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof(state->message), "%s", message);
  std::longjmp(state->jump, 1);
}

void png_warning_fn(png_structp, png_const_charp) {}  // benign (e.g. an unknown chunk)

void png_read_fn(png_structp png, png_bytep out, png_size_t length) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (source->offset + length > source->bytes->size()) {
    png_error(png, "file is truncated");
  }
  std::memcpy(out, source->bytes->data() + source->offset, length);
  source->offset += length;
}

bool decode_png_raw(const std::string& bytes, Image& image, std::vector<png_bytep>& rows,
                    std::string& message) {
  PngErrorState state;
  state.message[0] = '\0';
  PngSource source{&bytes, 0};
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_error_fn, png_warning_fn);
  if (png == nullptr) {
    message = "out of memory";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(state.jump)) {
    png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    message = state.message[0] != '\0' ? state.message : "out of memory";
    return false;
  }
  png_set_read_fn(png, &source, png_read_fn);
  png_read_info(png, info);
  message = too_many_pixels(png_get_image_width(png, info), png_get_image_height(png, info));
  if (!message.empty()) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  const png_byte color = png_get_color_type(png, info);
  const png_byte depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  png_set_strip_alpha(png);  // also drops a tRNS transparency (never expanded to alpha)
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image.width = static_cast<int>(png_get_image_width(png, info));
  image.height = static_cast<int>(png_get_image_height(png, info));
  image.channels = png_get_channels(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  if (image.channels != 1 && image.channels != 3) {
    png_destroy_read_struct(&png, &info, nullptr);
    message = "unsupported channel layout";
    return false;
  }
  if (row_bytes != static_cast<size_t>(image.width) * static_cast<size_t>(image.channels)) {
    png_destroy_read_struct(&png, &info, nullptr);
    message = "unexpected row size after conversion to 8 bits";
    return false;
  }
  image.pixels.resize(row_bytes * static_cast<size_t>(image.height));
  rows.resize(static_cast<size_t>(image.height));
  for (size_t y = 0; y < rows.size(); ++y) rows[y] = image.pixels.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

Image decode_png(const std::string& bytes, const std::string& path, int channels) {
  Image image;
  std::vector<png_bytep> rows;
  std::string message;
  check(decode_png_raw(bytes, image, rows, message), "cannot decode PNG image '", path, "': ",
        message);
  return to_channels(std::move(image), channels);
}

}  // namespace

Image decode_image(const std::string& bytes, const std::string& path, int channels) {
  check(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  switch (sniff_image_format(bytes)) {
    case ImageFormat::kJpeg:
      return decode_jpeg(bytes, path, channels);
    case ImageFormat::kPng:
      return decode_png(bytes, path, channels);
    default:
      fail("cannot decode image '", path, "': it is neither a JPEG nor a PNG file (",
           bytes.size(), " bytes, unknown signature)");
  }
}

void set_max_image_pixels(uint64_t pixels) {
  check(pixels > 0, "the image pixel limit must be positive, got ", pixels);
  g_max_image_pixels.store(pixels);
}

uint64_t max_image_pixels() { return g_max_image_pixels.load(); }

Image read_image(const std::string& path, int channels) {
  return decode_image(read_file(path), path, channels);
}

}  // namespace vitc
