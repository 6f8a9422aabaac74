//! File transfers over SFTP (being written).
