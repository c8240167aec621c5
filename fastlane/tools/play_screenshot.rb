# frozen_string_literal: true

# Makes a PNG acceptable to Google Play as a phone screenshot: Play takes JPEG or 24-bit PNG
# (no alpha) whose long side is at most twice the short side. The app's screens render at
# 720 x 1560 (13:6) with an alpha channel, so this drops the alpha (over white) and widens the
# image to 2:1 by repeating each row's edge pixels, which carries backgrounds and bars to the
# new edges. Pure Ruby (zlib only): it runs wherever fastlane runs, no ImageMagick.
#
#   ruby fastlane/tools/play_screenshot.rb SRC.png DST.png
#
# The Fastfile's `android screenshots` lane calls PlayScreenshot.convert for every image it copies.
require "zlib"

module PlayScreenshot
  SIGNATURE = "\x89PNG\r\n\x1a\n".b.freeze

  module_function

  def convert(src, dst)
    width, height, channels, rows = decode(File.binread(src))
    rows = rows.map { |row| to_rgb(row, channels) }
    width, height, rows = widen(width, height, rows)
    File.binwrite(dst, encode(width, height, rows))
    [width, height]
  end

  # Returns width, height, channels (3 or 4) and the unfiltered rows as byte arrays.
  def decode(png)
    raise ArgumentError, "not a PNG" unless png.byteslice(0, 8) == SIGNATURE

    pos = 8
    idat = +"".b
    width = height = channels = nil
    while pos < png.bytesize
      length, type = png.byteslice(pos, 8).unpack("Na4")
      data = png.byteslice(pos + 8, length)
      pos += 12 + length
      case type
      when "IHDR"
        width, height, depth, color, _compression, _filter, interlace = data.unpack("NNC5")
        channels = { 2 => 3, 6 => 4 }[color]
        unless depth == 8 && channels && interlace.zero?
          raise ArgumentError, "only 8-bit RGB or RGBA, non-interlaced PNGs (depth #{depth}, colour type #{color})"
        end
      when "IDAT" then idat << data
      when "IEND" then break
      end
    end
    raw = Zlib::Inflate.inflate(idat).bytes
    stride = width * channels
    prev = Array.new(stride, 0)
    rows = Array.new(height) do |y|
      base = y * (stride + 1)
      row = unfilter(raw[base], raw[base + 1, stride], prev, channels)
      prev = row
    end
    [width, height, channels, rows]
  end

  def unfilter(filter, row, prev, bpp)
    case filter
    when 0 then row
    when 1 then (bpp...row.size).each { |i| row[i] = (row[i] + row[i - bpp]) & 0xff }
    when 2 then row.size.times { |i| row[i] = (row[i] + prev[i]) & 0xff }
    when 3
      row.size.times do |i|
        left = i >= bpp ? row[i - bpp] : 0
        row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xff
      end
    when 4
      row.size.times do |i|
        left = i >= bpp ? row[i - bpp] : 0
        upleft = i >= bpp ? prev[i - bpp] : 0
        row[i] = (row[i] + paeth(left, prev[i], upleft)) & 0xff
      end
    else raise ArgumentError, "bad PNG filter #{filter}"
    end
    row
  end

  def paeth(a, b, c)
    p = a + b - c
    pa = (p - a).abs
    pb = (p - b).abs
    pc = (p - c).abs
    if pa <= pb && pa <= pc then a
    elsif pb <= pc then b
    else c
    end
  end

  def to_rgb(row, channels)
    return row if channels == 3

    out = Array.new(row.size / 4 * 3)
    j = 0
    row.each_slice(4) do |r, g, b, a|
      if a == 255
        out[j] = r
        out[j + 1] = g
        out[j + 2] = b
      else
        out[j] = (r * a + 255 * (255 - a) + 127) / 255
        out[j + 1] = (g * a + 255 * (255 - a) + 127) / 255
        out[j + 2] = (b * a + 255 * (255 - a) + 127) / 255
      end
      j += 3
    end
    out
  end

  # Pads the short side until the long side is at most twice it.
  def widen(width, height, rows)
    if height > 2 * width
      extra = (height + 1) / 2 - width
      left = extra / 2
      right = extra - left
      rows = rows.map { |row| row[0, 3] * left + row + row[-3, 3] * right }
      [width + extra, height, rows]
    elsif width > 2 * height
      extra = (width + 1) / 2 - height
      top = extra / 2
      [width, height + extra, Array.new(top) { rows.first.dup } + rows + Array.new(extra - top) { rows.last.dup }]
    else
      [width, height, rows]
    end
  end

  # 8-bit RGB; each row takes the filter with the smallest sum of magnitudes (the usual heuristic).
  def encode(width, height, rows)
    prev = Array.new(width * 3, 0)
    raw = +"".b
    rows.each do |row|
      best = [0, row]
      best_cost = cost(row)
      [1, 2, 4].each do |filter|
        candidate = filter_row(filter, row, prev)
        c = cost(candidate)
        if c < best_cost
          best = [filter, candidate]
          best_cost = c
        end
      end
      raw << best[0].chr << best[1].pack("C*")
      prev = row
    end
    ihdr = [width, height, 8, 2, 0, 0, 0].pack("NNC5")
    SIGNATURE + chunk("IHDR", ihdr) + chunk("IDAT", Zlib::Deflate.deflate(raw, Zlib::BEST_COMPRESSION)) + chunk("IEND", "")
  end

  def filter_row(filter, row, prev)
    case filter
    when 1 then Array.new(row.size) { |i| (row[i] - (i >= 3 ? row[i - 3] : 0)) & 0xff }
    when 2 then Array.new(row.size) { |i| (row[i] - prev[i]) & 0xff }
    when 4
      Array.new(row.size) do |i|
        left = i >= 3 ? row[i - 3] : 0
        upleft = i >= 3 ? prev[i - 3] : 0
        (row[i] - paeth(left, prev[i], upleft)) & 0xff
      end
    end
  end

  def cost(bytes)
    bytes.sum { |v| v < 128 ? v : 256 - v }
  end

  def chunk(type, data)
    [data.bytesize].pack("N") + type.b + data.b + [Zlib.crc32(type + data)].pack("N")
  end
end

if $PROGRAM_NAME == __FILE__
  abort "usage: ruby #{File.basename(__FILE__)} SRC.png DST.png" unless ARGV.size == 2
  w, h = PlayScreenshot.convert(ARGV[0], ARGV[1])
  puts "#{ARGV[1]}: #{w} x #{h}, RGB"
end
