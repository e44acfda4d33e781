//! A small layout language and its renderer: the printer says where a line *may* break, the
//! renderer decides where it *does*, given the line width.
//!
//! This is the classic Wadler/Oppen design (as in Prettier): a [`Doc::Group`] is printed on one
//! line when it fits in what is left of the line, and otherwise every [`Doc::Line`] directly in
//! it becomes a newline. A [`Doc::Fill`] breaks only the separators it must, which suits long
//! lists of short things (column names, code-table entries).
//!
//! Comments need three more pieces: a [`Doc::LineSuffix`] holds a trailing `// comment` back
//! until the end of the output line, [`Doc::BreakParent`] makes sure that end comes (a comment
//! must never swallow the code after it), and [`Doc::EnsureLine`] / [`Doc::BlankLine`] start a
//! fresh line (or leave one empty line) only when the output is not already there, which lets
//! comments and block members ask for a line of their own without producing doubled blank lines.
//!
//! A line's indentation is the one in force where the line break was made (as in Prettier), but
//! it is written lazily, when the first text of the line arrives, so that the output never has
//! trailing whitespace.

/// One piece of layout.
#[derive(Debug, Clone)]
pub(crate) enum Doc {
    /// Text that never contains a newline.
    Text(String),
    /// A space when the enclosing group is flat, a newline when it is broken.
    Line,
    /// Nothing when the enclosing group is flat, a newline when it is broken.
    SoftLine,
    /// A newline unless the current output line is still empty.
    EnsureLine,
    /// [`Doc::EnsureLine`] for a line that continues an item (the line of an own-line comment
    /// inside it, and the token after that comment): indented at least one level, because a word
    /// at column 0 starts a new item for the parser's recovery (`rule` / own-line comment / `R1`
    /// would be read as two items).
    ContinuationLine,
    /// Ends the current line if needed and leaves exactly one empty line (never at the very start).
    BlankLine,
    /// Text appended at the end of the current output line, just before its newline.
    LineSuffix(String),
    /// Forces every enclosing group to break.
    BreakParent,
    Concat(Vec<Doc>),
    /// The content, with one more indentation level after each newline inside it.
    Indent(Box<Doc>),
    Group(Group),
    /// Items separated by a space, or by a newline where the next item would not fit.
    Fill(Vec<Doc>),
}

/// A group and what it contains that decides its layout before any measuring.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    body: Box<Doc>,
    /// The body holds a forced line end (a comment, a doc line, a block): it can never be flat.
    forced_break: bool,
    /// The body ends with a trailing comment not yet followed by a line break place, which
    /// forces the enclosing group if a break place follows there.
    ends_with_comment: bool,
}

impl Doc {
    pub(crate) fn text(text: impl Into<String>) -> Doc {
        Doc::Text(text.into())
    }

    pub(crate) fn group(body: Vec<Doc>) -> Doc {
        let body = Doc::Concat(body);
        let mut pending_comment = false;
        let forced_break = body.forces_break(&mut pending_comment);
        let group = Group { ends_with_comment: pending_comment, body: Box::new(body), forced_break };
        Doc::Group(group)
    }

    pub(crate) fn indent(body: Vec<Doc>) -> Doc {
        Doc::Indent(Box::new(Doc::Concat(body)))
    }

    /// Whether printing this must end a line whatever the width, which rules out a flat layout
    /// of any group around it: an own-line comment or doc line, or a trailing comment
    /// ([`Doc::BreakParent`]) followed by a place where the line could break. A trailing comment
    /// with no such place after it is already at the end of its line, and forces nothing.
    ///
    /// `pending_comment` says whether a trailing comment was seen and no line break place since.
    fn forces_break(&self, pending_comment: &mut bool) -> bool {
        etr_syntax::ensure_sufficient_stack(|| match self {
            Doc::EnsureLine | Doc::ContinuationLine | Doc::BlankLine => true,
            Doc::BreakParent => {
                *pending_comment = true;
                false
            }
            Doc::Line | Doc::SoftLine => *pending_comment,
            Doc::Text(_) | Doc::LineSuffix(_) => false,
            Doc::Concat(docs) => docs.iter().any(|doc| doc.forces_break(pending_comment)),
            Doc::Fill(items) => items
                .iter()
                .enumerate()
                .any(|(i, item)| (i > 0 && *pending_comment) || item.forces_break(pending_comment)),
            Doc::Indent(doc) => doc.forces_break(pending_comment),
            Doc::Group(group) => {
                if group.forced_break {
                    return true;
                }
                *pending_comment |= group.ends_with_comment;
                false
            }
        })
    }

    /// Whether this starts a line of its own (own-line comments, doc lines): a [`Doc::Fill`] puts
    /// such an item on a new line rather than after the previous item.
    fn ends_lines(&self) -> bool {
        etr_syntax::ensure_sufficient_stack(|| match self {
            Doc::EnsureLine | Doc::ContinuationLine | Doc::BlankLine => true,
            Doc::Text(_) | Doc::Line | Doc::SoftLine | Doc::LineSuffix(_) | Doc::BreakParent => false,
            Doc::Concat(docs) | Doc::Fill(docs) => docs.iter().any(Doc::ends_lines),
            Doc::Indent(doc) => doc.ends_lines(),
            Doc::Group(group) => group.body.ends_lines(),
        })
    }
}

/// Whether a group is being printed on one line or broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// What is left to print: a document, or the rest of a fill from a given item on.
#[derive(Clone, Copy)]
enum Work<'a> {
    Doc(&'a Doc),
    FillFrom(&'a [Doc], usize),
}

#[derive(Clone, Copy)]
struct Command<'a> {
    indent: usize,
    mode: Mode,
    work: Work<'a>,
}

/// Renders `doc` with lines of at most `width` characters where the layout allows it, and
/// `indent_width` spaces per indentation level. The result ends with exactly one newline unless
/// it is empty.
pub(crate) fn render(doc: &Doc, width: usize, indent_width: usize) -> String {
    let mut printer = Renderer {
        out: String::new(),
        width,
        indent_width,
        column: 0,
        line_has_content: false,
        line_indent: 0,
        line_suffixes: Vec::new(),
    };
    printer.run(doc);
    printer.end_line();
    let trimmed_len = printer.out.trim_end_matches('\n').len();
    printer.out.truncate(trimmed_len);
    if !printer.out.is_empty() {
        printer.out.push('\n');
    }
    printer.out
}

struct Renderer {
    out: String,
    width: usize,
    indent_width: usize,
    /// Characters on the current output line, indentation included.
    column: usize,
    /// Whether anything but indentation has been written on the current line.
    line_has_content: bool,
    /// The indentation of the current line, written with its first text.
    line_indent: usize,
    /// Trailing comments waiting for the end of the current line.
    line_suffixes: Vec<String>,
}

impl Renderer {
    fn run(&mut self, doc: &Doc) {
        let mut stack = vec![Command { indent: 0, mode: Mode::Break, work: Work::Doc(doc) }];
        while let Some(command) = stack.pop() {
            let Command { indent, mode, work } = command;
            let doc = match work {
                Work::Doc(doc) => doc,
                Work::FillFrom(items, next) => {
                    self.fill_item(items, next, indent, &mut stack);
                    continue;
                }
            };
            match doc {
                Doc::Text(text) => self.write(text),
                // A broken line never leaves an empty line: blank lines are `BlankLine`'s business.
                Doc::Line => match mode {
                    Mode::Flat => self.write(" "),
                    Mode::Break => self.end_line_at(indent),
                },
                Doc::SoftLine => {
                    if mode == Mode::Break {
                        self.end_line_at(indent);
                    }
                }
                Doc::EnsureLine => self.end_line_at(indent),
                Doc::ContinuationLine => self.end_line_at(indent.max(self.indent_width)),
                Doc::BlankLine => {
                    self.end_line_at(indent);
                    if !self.out.is_empty() && !self.out.ends_with("\n\n") {
                        self.newline(indent);
                    }
                }
                Doc::LineSuffix(text) => self.line_suffixes.push(text.clone()),
                Doc::BreakParent => {}
                Doc::Concat(docs) => {
                    stack.extend(docs.iter().rev().map(|doc| Command { indent, mode, work: Work::Doc(doc) }));
                }
                Doc::Indent(body) => {
                    stack.push(Command { indent: indent + self.indent_width, mode, work: Work::Doc(body) });
                }
                Doc::Group(group) => {
                    let flat = Command { indent, mode: Mode::Flat, work: Work::Doc(&group.body) };
                    let mode = if mode == Mode::Flat || (!group.forced_break && self.fits(flat, &stack)) {
                        Mode::Flat
                    } else {
                        Mode::Break
                    };
                    stack.push(Command { indent, mode, work: Work::Doc(&group.body) });
                }
                Doc::Fill(items) => {
                    if mode == Mode::Flat {
                        for (i, item) in items.iter().enumerate().rev() {
                            stack.push(Command { indent, mode, work: Work::Doc(item) });
                            if i > 0 {
                                stack.push(Command { indent, mode, work: Work::Doc(&Doc::Line) });
                            }
                        }
                    } else if !items.is_empty() {
                        self.fill_item(items, 0, indent, &mut stack);
                    }
                }
            }
        }
    }

    /// Schedules item `next` of a broken fill, after the separator it needs: a space when it fits
    /// on the current line, a newline when it does not, when it starts with a line of its own, or
    /// when a trailing comment is waiting (the comment must end the line).
    fn fill_item<'a>(&mut self, items: &'a [Doc], next: usize, indent: usize, stack: &mut Vec<Command<'a>>) {
        let Some(item) = items.get(next) else { return };
        let flat = Command { indent, mode: Mode::Flat, work: Work::Doc(item) };
        let fits_flat = !item.forces_break(&mut false) && self.fits_alone(flat, 1);
        if next > 0 {
            if item.ends_lines() || !self.line_suffixes.is_empty() || !fits_flat {
                self.newline(indent);
            } else {
                self.write(" ");
            }
        }
        let fits_here = !item.forces_break(&mut false) && self.fits_alone(flat, 0);
        stack.push(Command { indent, mode: Mode::Break, work: Work::FillFrom(items, next + 1) });
        stack.push(Command { indent, mode: if fits_here { Mode::Flat } else { Mode::Break }, work: Work::Doc(item) });
    }

    /// Whether `command` printed flat, then the rest of the document up to its next possible
    /// line break, fits in what is left of the current line.
    fn fits(&self, command: Command<'_>, rest: &[Command<'_>]) -> bool {
        let mut remaining = self.width as isize - self.column as isize;
        let mut stack = vec![command];
        let mut rest = rest.iter().rev();
        loop {
            let Some(Command { indent, mode, work }) = stack.pop().or_else(|| rest.next().copied()) else {
                return true;
            };
            let doc = match work {
                Work::Doc(doc) => doc,
                // A broken fill can break before its next item.
                Work::FillFrom(..) => return true,
            };
            match doc {
                Doc::Text(text) => remaining -= text.chars().count() as isize,
                Doc::Line => match mode {
                    Mode::Flat => remaining -= 1,
                    Mode::Break => return true,
                },
                Doc::SoftLine => {
                    if mode == Mode::Break {
                        return true;
                    }
                }
                Doc::EnsureLine | Doc::ContinuationLine | Doc::BlankLine => return true,
                Doc::LineSuffix(_) | Doc::BreakParent => {}
                Doc::Concat(docs) => {
                    stack.extend(docs.iter().rev().map(|doc| Command { indent, mode, work: Work::Doc(doc) }))
                }
                Doc::Indent(body) => stack.push(Command { indent, mode, work: Work::Doc(body) }),
                Doc::Group(group) => {
                    let mode = if group.forced_break { Mode::Break } else { mode };
                    stack.push(Command { indent, mode, work: Work::Doc(&group.body) });
                }
                Doc::Fill(items) => {
                    if mode == Mode::Break {
                        if let Some(first) = items.first() {
                            stack.push(Command { indent, mode: Mode::Flat, work: Work::Doc(first) });
                        }
                    } else {
                        for (i, item) in items.iter().enumerate().rev() {
                            stack.push(Command { indent, mode, work: Work::Doc(item) });
                            if i > 0 {
                                stack.push(Command { indent, mode, work: Work::Doc(&Doc::Line) });
                            }
                        }
                    }
                }
            }
            if remaining < 0 {
                return false;
            }
        }
    }

    /// Whether `command` alone, printed flat after `gap` more characters, fits on the current line.
    fn fits_alone(&self, command: Command<'_>, gap: usize) -> bool {
        let probe = Renderer { column: self.column + gap, ..self.shallow() };
        probe.fits(command, &[])
    }

    /// A renderer with this one's position and settings but no output, for measuring.
    fn shallow(&self) -> Renderer {
        Renderer {
            out: String::new(),
            width: self.width,
            indent_width: self.indent_width,
            column: self.column,
            line_has_content: self.line_has_content,
            line_indent: self.line_indent,
            line_suffixes: Vec::new(),
        }
    }

    fn write(&mut self, text: &str) {
        if !self.line_has_content {
            // Indentation is written with the first text of a line, so blank lines stay empty.
            self.out.extend(std::iter::repeat_n(' ', self.line_indent));
            self.column = self.line_indent;
            self.line_has_content = true;
        }
        self.out.push_str(text);
        self.column += text.chars().count();
    }

    fn newline(&mut self, indent: usize) {
        for suffix in self.line_suffixes.drain(..) {
            self.out.push_str(&suffix);
        }
        let trimmed_len = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed_len);
        self.out.push('\n');
        self.column = indent;
        self.line_indent = indent;
        self.line_has_content = false;
    }

    /// Ends the current line if it has content; on an empty line, only sets its indentation.
    fn end_line_at(&mut self, indent: usize) {
        if self.line_has_content {
            self.newline(indent);
        } else {
            self.line_indent = indent;
            self.column = indent;
        }
    }

    fn end_line(&mut self) {
        self.end_line_at(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Doc {
        let mut body = vec![Doc::text(name), Doc::text("(")];
        let mut inner = vec![Doc::SoftLine];
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                inner.push(Doc::text(","));
                inner.push(Doc::Line);
            }
            inner.push(Doc::text(*arg));
        }
        body.push(Doc::indent(inner));
        body.push(Doc::SoftLine);
        body.push(Doc::text(")"));
        Doc::group(body)
    }

    #[test]
    fn a_group_stays_flat_when_it_fits_and_breaks_every_line_when_not() {
        let doc = call("f", &["alpha", "beta"]);
        assert_eq!(render(&doc, 20, 2), "f(alpha, beta)\n");
        assert_eq!(render(&doc, 10, 2), "f(\n  alpha,\n  beta\n)\n");
    }

    #[test]
    fn a_fill_breaks_only_where_the_next_item_does_not_fit() {
        let items = ["aa,", "bb,", "cc,", "dd"].map(Doc::text).to_vec();
        assert_eq!(render(&Doc::Fill(items), 8, 2), "aa, bb,\ncc, dd\n");
    }

    #[test]
    fn a_line_suffix_waits_for_the_end_of_the_line_and_breaks_its_group() {
        let doc = Doc::group(vec![
            Doc::text("a"),
            Doc::LineSuffix(" // note".to_owned()),
            Doc::BreakParent,
            Doc::Line,
            Doc::text("b"),
        ]);
        assert_eq!(render(&doc, 80, 2), "a // note\nb\n");
    }

    #[test]
    fn blank_lines_collapse_and_lines_never_end_in_spaces() {
        let doc = Doc::Concat(vec![
            Doc::BlankLine,
            Doc::text("a "),
            Doc::BlankLine,
            Doc::BlankLine,
            Doc::EnsureLine,
            Doc::indent(vec![Doc::EnsureLine, Doc::text("b")]),
        ]);
        assert_eq!(render(&doc, 80, 2), "a\n\n  b\n");
    }
}
