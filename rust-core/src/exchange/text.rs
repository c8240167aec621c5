//! Text as schedules carry it: HTML reduced to plain text, and fields fitted to the op's limits.

/// Makes text from a file fit a field: control characters (other than line breaks and tabs where
/// allowed) become spaces, and text over `max` bytes is cut at a character boundary with `…`.
/// Returns whether it had to cut.
pub fn fit(text: &str, max: usize, multiline: bool) -> (String, bool) {
    let mut s: String = text
        .trim()
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| if c.is_control() && !(multiline && (c == '\n' || c == '\t')) { ' ' } else { c })
        .collect();
    if s.len() <= max {
        return (s, false);
    }
    let mut cut = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push('…');
    (s, true)
}

/// Resolves an HTML entity name (without `&` and `;`) that schedule files use although XML does
/// not define it. Covers the Latin-1 set and common typography; `None` for anything else.
pub fn html_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "nbsp" => "\u{a0}",
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "ndash" => "–",
        "mdash" => "—",
        "hellip" => "…",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "bull" => "•",
        "middot" => "·",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "euro" => "€",
        "pound" => "£",
        "yen" => "¥",
        "cent" => "¢",
        "deg" => "°",
        "times" => "×",
        "divide" => "÷",
        "plusmn" => "±",
        "para" => "¶",
        "sect" => "§",
        "shy" => "\u{ad}",
        "iexcl" => "¡",
        "iquest" => "¿",
        "auml" => "ä",
        "ouml" => "ö",
        "uuml" => "ü",
        "Auml" => "Ä",
        "Ouml" => "Ö",
        "Uuml" => "Ü",
        "szlig" => "ß",
        "aacute" => "á",
        "eacute" => "é",
        "iacute" => "í",
        "oacute" => "ó",
        "uacute" => "ú",
        "Aacute" => "Á",
        "Eacute" => "É",
        "Iacute" => "Í",
        "Oacute" => "Ó",
        "Uacute" => "Ú",
        "agrave" => "à",
        "egrave" => "è",
        "igrave" => "ì",
        "ograve" => "ò",
        "ugrave" => "ù",
        "Agrave" => "À",
        "Egrave" => "È",
        "acirc" => "â",
        "ecirc" => "ê",
        "icirc" => "î",
        "ocirc" => "ô",
        "ucirc" => "û",
        "atilde" => "ã",
        "otilde" => "õ",
        "ntilde" => "ñ",
        "Ntilde" => "Ñ",
        "ccedil" => "ç",
        "Ccedil" => "Ç",
        "aring" => "å",
        "Aring" => "Å",
        "aelig" => "æ",
        "AElig" => "Æ",
        "oslash" => "ø",
        "Oslash" => "Ø",
        "euml" => "ë",
        "iuml" => "ï",
        "yuml" => "ÿ",
        "thorn" => "þ",
        "eth" => "ð",
        _ => return None,
    })
}

/// Turns the HTML that schedule descriptions often carry into plain text: block tags become
/// line breaks, other tags go, entities are resolved. Text without tags is returned as it is.
pub fn html_to_text(s: &str) -> String {
    if !s.contains('<') && !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let Some(end) = rest.find('>') else { break };
            let tag = rest[1..end].trim_start_matches('/').to_ascii_lowercase();
            let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
            let starts_like_a_tag = tag.starts_with(|c: char| c.is_ascii_alphabetic());
            if starts_like_a_tag && name.chars().all(|c| c.is_ascii_alphanumeric()) {
                if matches!(name, "br" | "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "tr") {
                    out.push('\n');
                }
                rest = &rest[end + 1..];
            } else {
                // Not a tag ("a < b"): keep the character.
                out.push('<');
                rest = &rest[1..];
            }
        } else {
            let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 12);
            let resolved = end.and_then(|e| {
                let name = &rest[1..e];
                match name.strip_prefix('#') {
                    Some(num) => num
                        .strip_prefix(['x', 'X'])
                        .map_or_else(|| num.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map(String::from),
                    None => html_entity(name).map(str::to_owned),
                }
                .map(|r| (r, e))
            });
            match resolved {
                Some((text, e)) => {
                    out.push_str(&text);
                    rest = &rest[e + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    // Collapse the blank lines that block tags leave behind.
    let mut lines: Vec<&str> = Vec::new();
    for line in out.lines().map(str::trim_end) {
        if line.trim().is_empty() && lines.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_owned()
}
