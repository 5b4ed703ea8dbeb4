import { createAccount } from './create-account.js';
import { deleteAccount } from './delete-account.js';
import { getBalances } from './get-balances.js';
import { listAccounts } from './list-accounts.js';
import { setPaperBalances } from './set-paper-balances.js';
import { updateAccount } from './update-account.js';

export const accountCommands = [listAccounts, createAccount, updateAccount, deleteAccount, getBalances, setPaperBalances];
