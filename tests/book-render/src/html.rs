//! A rendered page of the book: do the files it loads exist, and does its
//! main part hold text?

use std::path::Path;

/// Fewer characters of text than this in `<main>` is an empty page: every
/// chapter of the book has far more.
pub const MIN_TEXT: usize = 200;

pub fn check(page: &Path) -> Result<String, String> {
    let html = std::fs::read_to_string(page).map_err(|e| format!("cannot read it: {e}"))?;
    let dir = page.parent().unwrap_or(Path::new("."));
    let resources = local_resources(&html);
    let missing: Vec<&String> = resources
        .iter()
        .filter(|resource| !dir.join(resource).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing: {missing:?}"));
    }
    let text = main_text(&html);
    if text.chars().count() < MIN_TEXT {
        return Err(format!(
            "its <main> holds {} characters of text, fewer than {MIN_TEXT}: an empty page",
            text.chars().count()
        ));
    }
    let chinese = chinese_characters(&text);
    if html.contains("<html lang=\"zh-CN\"") && chinese < MIN_TEXT {
        return Err(format!(
            "a page of the Chinese book with {chinese} Chinese characters in its <main>: \
             the translation is missing (book/po/zh-CN.po, `just po`)"
        ));
    }
    let images = images(&html).len();
    Ok(format!(
        "{} characters of text ({chinese} Chinese), {images} image(s), all {} local files present",
        text.chars().count(),
        resources.len()
    ))
}

/// How many characters of `text` are CJK ideographs (U+4E00 to U+9FFF).
pub fn chinese_characters(text: &str) -> usize {
    text.chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count()
}

/// The values of `attribute="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!(" {attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The `src` of every `<img>`.
fn images(html: &str) -> Vec<&str> {
    html.split("<img")
        .skip(1)
        .filter_map(|tag| {
            attribute_values(tag.split('>').next()?, "src")
                .first()
                .copied()
        })
        .collect()
}

/// Every file of the book the page loads: images, scripts, frames
/// (`src`) and style sheets (`href` ending in `.css`), without web
/// addresses, `data:` URLs, queries and fragments.
pub fn local_resources(html: &str) -> Vec<String> {
    let styles = attribute_values(html, "href").into_iter().filter(|href| {
        href.split(['?', '#'])
            .next()
            .unwrap_or("")
            .ends_with(".css")
    });
    let mut resources: Vec<String> = attribute_values(html, "src")
        .into_iter()
        .chain(styles)
        .filter(|url| !url.contains("://") && !url.starts_with("data:") && !url.starts_with("//"))
        .map(|url| url.split(['?', '#']).next().unwrap_or("").to_string())
        .filter(|path| !path.is_empty())
        .collect();
    resources.sort();
    resources.dedup();
    resources
}

/// The text of `<main>`, tags removed and white space squeezed.
pub fn main_text(html: &str) -> String {
    let main = html
        .split_once("<main>")
        .and_then(|(_, rest)| rest.split_once("</main>"))
        .map_or("", |(main, _)| main);
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_are_counted_and_nothing_else() {
        assert_eq!(chinese_characters("挂载命名空间 mount namespace"), 6);
        assert_eq!(chinese_characters("Mounts of its own"), 0);
    }

    const PAGE: &str = r#"<html><head><link rel="stylesheet" href="css/chrome.css?v=1">
        <link rel="icon" href="favicon.svg"><script src="book.js"></script></head>
        <body><main><h1>Title</h1><p>Some <b>text</b>.</p>
        <img src="diagrams/life.svg" alt="life"><img src="https://example.org/x.png">
        <img alt="inline" src="data:image/png;base64,AAAA"></main></body></html>"#;

    #[test]
    fn local_resources_leave_out_the_web_and_data_urls() {
        assert_eq!(
            local_resources(PAGE),
            ["book.js", "css/chrome.css", "diagrams/life.svg"]
        );
        assert_eq!(images(PAGE).len(), 3);
    }

    #[test]
    fn main_text_is_the_words_without_tags() {
        assert_eq!(main_text(PAGE), "Title Some text .");
        assert_eq!(main_text("<html><body>no main</body></html>"), "");
    }

    #[test]
    fn a_missing_image_or_an_empty_page_fails() {
        let dir = std::env::temp_dir().join(format!("nslab-book-render-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("diagrams")).unwrap();
        let page = dir.join("page.html");
        let long = format!("<main>{}</main>", "words ".repeat(50));
        std::fs::write(&page, format!("{long}<img src=\"diagrams/life.svg\">")).unwrap();
        assert!(check(&page).unwrap_err().contains("diagrams/life.svg"));
        std::fs::write(dir.join("diagrams/life.svg"), "<svg/>").unwrap();
        assert!(check(&page).is_ok());
        std::fs::write(&page, "<main><h1>Nothing</h1></main>").unwrap();
        assert!(check(&page).unwrap_err().contains("an empty page"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
