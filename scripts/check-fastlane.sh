#!/usr/bin/env bash
# Checks the release tooling in fastlane/ without running fastlane (nothing of it runs in CI but
# this): the Ruby files parse (`ruby -c`), the Fastfile has lanes test, build, screenshots, beta and
# release for both ios and android, and the store metadata for en-US and de-DE is complete and
# within the App Store's and Google Play's limits (characters, not bytes), with real, Play-ready
# phone screenshots, a privacy text that says "no account" and "no tracking", and the iOS usage
# strings for Bluetooth, the camera and the local network.
#
#   scripts/check-fastlane.sh     (from any directory; the repository is this script's ../)
#
# Prints one line per problem and ends with `fastlane: ok (N files checked)`; exits 1 on a problem.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v ruby >/dev/null 2>&1; then
  echo "check-fastlane: ruby is missing (needed for ruby -c on the fastlane files):" \
    "run scripts/install-deps.sh or apt-get install ruby" >&2
  exit 1
fi

exec ruby - "$root" <<'RUBY'
require "open3"
require "rbconfig"
require "ripper"

ROOT = ARGV.fetch(0)
LOCALES = %w[en-US de-DE].freeze
$problems = []
$checked = {}

def rel(path)
  path.sub("#{ROOT}/", "")
end

def problem(path, message)
  $problems << "#{rel(path)}: #{message}"
end

# The file's text as UTF-8, or nil (after a problem line) when it is missing, empty or not UTF-8.
def text(path, strip: true)
  $checked[path] = true
  unless File.file?(path)
    problem(path, "missing")
    return nil
  end
  body = File.read(path, mode: "rb").force_encoding("UTF-8")
  unless body.valid_encoding?
    problem(path, "not UTF-8")
    return nil
  end
  body = body.strip if strip
  if body.strip.empty?
    problem(path, "empty")
    return nil
  end
  body
end

def limit(path, max, strip: true, single_line: false)
  body = text(path, strip: strip)
  return nil unless body
  problem(path, "#{body.length} characters, the limit is #{max}") if body.length > max
  problem(path, "must be one line, with no line break at its end") if single_line && body.include?("\n")
  body
end

# --- Ruby syntax ---------------------------------------------------------------------------------
fastfile = File.join(ROOT, "fastlane/Fastfile")
["fastlane/Fastfile", "fastlane/Appfile", "fastlane/Snapfile", "Gemfile",
 "fastlane/tools/play_screenshot.rb"].each do |name|
  path = File.join(ROOT, name)
  $checked[path] = true
  unless File.file?(path)
    problem(path, "missing")
    next
  end
  out, status = Open3.capture2e(RbConfig.ruby, "-c", path)
  next if status.success?
  first = out.lines.map(&:strip).reject(&:empty?).first.to_s.sub("#{path}:", "line ")
  problem(path, "ruby -c failed: #{first}")
end

# --- Lanes: `platform :x do ... lane :y do ... end ... end` ---------------------------------------
REQUIRED_LANES = %w[test build screenshots beta release].freeze

# [name argument, block body] of each `<method> :name do ... end` directly or deeply inside node.
def blocks(node, method, found = [])
  return found unless node.is_a?(Array)
  if node[0] == :method_add_block && node[1].is_a?(Array) && node[1][0] == :command &&
     node[1][1].is_a?(Array) && node[1][1][1] == method
    symbol = first_symbol(node[1][2])
    found << [symbol, node[2]] if symbol
  end
  node.each { |child| blocks(child, method, found) }
  found
end

def first_symbol(node)
  return nil unless node.is_a?(Array)
  if node[0] == :symbol && node[1].is_a?(Array)
    return node[1][1]
  end
  node.each do |child|
    symbol = first_symbol(child)
    return symbol if symbol
  end
  nil
end

if File.file?(fastfile)
  tree = Ripper.sexp(File.read(fastfile))
  if tree.nil?
    problem(fastfile, "cannot be parsed, so its lanes cannot be checked")
  else
    platforms = blocks(tree, "platform")
    %w[ios android].each do |platform|
      block = platforms.find { |name, _| name == platform }
      unless block
        problem(fastfile, "no `platform :#{platform} do` block")
        next
      end
      lanes = blocks(block[1], "lane").map(&:first)
      (REQUIRED_LANES - lanes).each { |lane| problem(fastfile, "platform :#{platform} has no lane :#{lane}") }
    end
  end
end

# --- App Store metadata (deliver's layout) -------------------------------------------------------
meta = File.join(ROOT, "fastlane/metadata")
IOS_LIMITS = {
  "name.txt" => 30, "subtitle.txt" => 30, "keywords.txt" => 100, "promotional_text.txt" => 170,
  "description.txt" => 4000, "release_notes.txt" => 4000
}.freeze
IOS_URLS = %w[privacy_url.txt support_url.txt marketing_url.txt].freeze
APP_STORE_CATEGORIES = %w[
  BOOKS BUSINESS DEVELOPER_TOOLS EDUCATION ENTERTAINMENT FINANCE FOOD_AND_DRINK GAMES
  GRAPHICS_AND_DESIGN HEALTH_AND_FITNESS LIFESTYLE MAGAZINES_AND_NEWSPAPERS MEDICAL MUSIC
  NAVIGATION NEWS PHOTO_AND_VIDEO PRODUCTIVITY REFERENCE SHOPPING SOCIAL_NETWORKING SPORTS
  STICKERS TRAVEL UTILITIES WEATHER
].freeze
PRIVACY_WORDS = {
  "en-US" => { "no account" => /\bno account\b/i, "no tracking" => /\bno tracking\b/i },
  "de-DE" => { "kein Konto" => /\bkein(?:en)? Konto\b/i, "kein Tracking" => /\bkein(?:en)? Tracking\b/i }
}.freeze
USAGE_KEYS = {
  "NSBluetoothAlwaysUsageDescription" => "Bluetooth",
  "NSCameraUsageDescription" => "camera",
  "NSLocalNetworkUsageDescription" => "local network"
}.freeze

def privacy(path, locale)
  body = text(path)
  return unless body
  PRIVACY_WORDS.fetch(locale).each do |words, pattern|
    problem(path, "does not say \"#{words}\"") unless body =~ pattern
  end
end

LOCALES.each do |locale|
  dir = File.join(meta, locale)
  IOS_LIMITS.each { |file, max| limit(File.join(dir, file), max) }
  keywords = File.join(dir, "keywords.txt")
  if File.file?(keywords) && File.read(keywords).split(",").any? { |k| k.strip.empty? }
    problem(keywords, "has an empty keyword (\",,\" or a trailing comma)")
  end
  IOS_URLS.each do |file|
    url = limit(File.join(dir, file), 255, single_line: true)
    problem(File.join(dir, file), "not an http(s) URL: #{url}") if url && url !~ %r{\Ahttps?://[^\s/]+\S*\z}
  end
  privacy(File.join(dir, "privacy_text.txt"), locale)
  usage = File.join(dir, "usage_strings.txt")
  body = text(usage)
  if body
    USAGE_KEYS.each do |key, what|
      problem(usage, "no #{key} (#{what}) line with a text") unless body =~ /^#{key}:[ \t]*\S/
    end
  end
end
limit(File.join(meta, "copyright.txt"), 200, single_line: true)
category = text(File.join(meta, "primary_category.txt"))
if category && !APP_STORE_CATEGORIES.include?(category)
  problem(File.join(meta, "primary_category.txt"), "#{category} is not an App Store category")
end
limit(File.join(meta, "review_information/notes.txt"), 4000)

# --- Google Play metadata (supply's layout; supply uploads the files as they are) ----------------
PNG = "\x89PNG\r\n\x1a\n".b.freeze
gradle = File.join(ROOT, "android/app/app/build.gradle.kts")
version_code = File.file?(gradle) ? File.read(gradle)[/versionCode\s*=\s*(\d+)/, 1] : nil

def screenshot(path)
  $checked[path] = true
  data = File.binread(path, 33) || ""
  return problem(path, "not a PNG (no PNG signature)") unless data.byteslice(0, 8) == PNG
  return problem(path, "not a PNG (no IHDR)") unless data.bytesize >= 26 && data.byteslice(12, 4) == "IHDR"
  width, height = data.byteslice(16, 8).unpack("NN")
  color = data.getbyte(25)
  short, long = [width, height].minmax
  problem(path, "#{width} x #{height}: each side must be 320 to 3840 pixels") if short < 320 || long > 3840
  problem(path, "#{width} x #{height}: the long side is more than twice the short one") if long > 2 * short
  problem(path, "has an alpha channel (Play takes 24-bit PNG): fastlane/tools/play_screenshot.rb converts") if [4, 6].include?(color)
  problem(path, "larger than 8 MB") if File.size(path) > 8 * 1024 * 1024
end

LOCALES.each do |locale|
  dir = File.join(meta, "android", locale)
  limit(File.join(dir, "title.txt"), 30, strip: false, single_line: true)
  limit(File.join(dir, "short_description.txt"), 80, strip: false, single_line: true)
  limit(File.join(dir, "full_description.txt"), 4000, strip: false)
  changelogs = Dir.glob(File.join(dir, "changelogs", "*.txt")).sort
  problem(File.join(dir, "changelogs"), "no changelog (changelogs/<versionCode>.txt)") if changelogs.empty?
  changelogs.each { |path| limit(path, 500, strip: false) }
  if version_code && !changelogs.empty? && !File.file?(File.join(dir, "changelogs", "#{version_code}.txt"))
    problem(File.join(dir, "changelogs"), "no #{version_code}.txt for versionCode #{version_code} (android/app/app/build.gradle.kts)")
  end
  privacy(File.join(dir, "privacy_text.txt"), locale)
  shots_dir = File.join(dir, "images", "phoneScreenshots")
  shots = Dir.glob(File.join(shots_dir, "*")).select { |path| File.file?(path) }.sort
  shots.each { |path| screenshot(path) }
  count = "#{shots.size} phone screenshot#{shots.size == 1 ? '' : 's'}"
  problem(shots_dir, "#{count}, Play needs at least 2") if shots.size < 2
  problem(shots_dir, "#{count}, Play takes at most 8") if shots.size > 8
end

$problems.each { |line| puts line }
if $problems.empty?
  puts "fastlane: ok (#{$checked.size} files checked)"
else
  puts "fastlane: #{$problems.size} problem#{$problems.size == 1 ? '' : 's'} (#{$checked.size} files checked)"
  exit 1
end
RUBY
