import { createUser } from './create-user.js';
import { deleteUser } from './delete-user.js';
import { listUsers } from './list-users.js';
import { updateUser } from './update-user.js';

export const userCommands = [listUsers, createUser, updateUser, deleteUser];
