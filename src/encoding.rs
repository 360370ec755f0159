//! The result of encoding one text.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// Character offsets into the original text.
    pub offsets: Vec<(usize, usize)>,
    pub type_ids: Vec<u32>,
    pub special_tokens_mask: Vec<u32>,
}

impl Encoding {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn push(&mut self, id: u32, token: String, offsets: (usize, usize), special: bool) {
        self.ids.push(id);
        self.tokens.push(token);
        self.offsets.push(offsets);
        self.type_ids.push(0);
        self.special_tokens_mask.push(u32::from(special));
    }
}
