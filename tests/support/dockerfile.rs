//! The repository's Dockerfile read as Docker reads it: logical
//! instructions (continuation lines joined, comments dropped), by stage.

use crate::workspace_root;

/// One instruction: its keyword in capitals and its arguments, runs of
/// whitespace made one space.
#[derive(Debug)]
pub struct Instruction {
    pub keyword: String,
    pub args: String,
}

/// The instructions of each stage, its `FROM` first, by stage name
/// (`FROM ... AS name`; the `ARG`s before the first `FROM` belong to none).
pub fn stages() -> Vec<(String, Vec<Instruction>)> {
    let text = std::fs::read_to_string(workspace_root().join("Dockerfile")).unwrap();
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<(String, Vec<Instruction>)> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(' ').unwrap_or((&line, ""));
        let instruction = Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        if instruction.keyword == "FROM" {
            let name = instruction
                .args
                .split_once(" AS ")
                .map(|(_, name)| name.trim().to_owned())
                .unwrap_or_default();
            stages.push((name, vec![instruction]));
        } else if let Some((_, instructions)) = stages.last_mut() {
            instructions.push(instruction);
        }
    }
    stages
}

/// The last stage: the image that ships.
pub fn runtime_stage() -> Vec<Instruction> {
    stages().pop().expect("a stage").1
}

/// The arguments of every `keyword` instruction, in order.
pub fn all<'a>(instructions: &'a [Instruction], keyword: &str) -> Vec<&'a str> {
    instructions
        .iter()
        .filter(|i| i.keyword == keyword)
        .map(|i| i.args.as_str())
        .collect()
}
